// DType sizes, safetensors names and overflow-checked shape arithmetic.
#include "formats/dtype.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>
#include <stdexcept>

#include "formats/format_error.h"

// Tensor views hand out raw file bytes, and both formats store little-endian data.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "longrope_formats assumes a little-endian host");

namespace longrope::formats {

namespace {

struct DTypeInfo {
  DType dtype;
  size_t size;
  const char* name;
};

constexpr DTypeInfo kInfos[] = {
    {DType::F64, 8, "F64"},   {DType::F32, 4, "F32"}, {DType::F16, 2, "F16"}, {DType::BF16, 2, "BF16"},
    {DType::I64, 8, "I64"},   {DType::I32, 4, "I32"}, {DType::I16, 2, "I16"}, {DType::I8, 1, "I8"},
    {DType::U64, 8, "U64"},   {DType::U32, 4, "U32"}, {DType::U16, 2, "U16"}, {DType::U8, 1, "U8"},
    {DType::BOOL, 1, "BOOL"},
};

const DTypeInfo& info(DType dtype) {
  for (const auto& i : kInfos) {
    if (i.dtype == dtype) return i;
  }
  throw std::invalid_argument(fmt::format("invalid DType value {}", static_cast<int>(dtype)));
}

}  // namespace

const std::vector<DType>& all_dtypes() {
  static const std::vector<DType> all = [] {
    std::vector<DType> v;
    for (const auto& i : kInfos) v.push_back(i.dtype);
    return v;
  }();
  return all;
}

size_t dtype_size(DType dtype) { return info(dtype).size; }

const char* safetensors_name(DType dtype) { return info(dtype).name; }

DType dtype_from_safetensors_name(const std::string& name, const std::string& context_for_error) {
  for (const auto& i : kInfos) {
    if (name == i.name) return i.dtype;
  }
  throw FormatError(fmt::format("{}: unknown dtype '{}'", context_for_error, name));
}

std::optional<int64_t> checked_numel(const std::vector<int64_t>& shape) {
  int64_t numel = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim == 0) numel = 0;  // an empty tensor is valid whatever its other dimensions are
  }
  if (numel == 0) return 0;
  for (int64_t dim : shape) {
    if (__builtin_mul_overflow(numel, dim, &numel)) return std::nullopt;
  }
  return numel;
}

std::optional<size_t> checked_nbytes(DType dtype, const std::vector<int64_t>& shape) {
  auto numel = checked_numel(shape);
  if (!numel || static_cast<uint64_t>(*numel) > std::numeric_limits<size_t>::max()) return std::nullopt;
  size_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(*numel), dtype_size(dtype), &nbytes)) return std::nullopt;
  return nbytes;
}

std::string shape_to_string(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

}  // namespace longrope::formats
