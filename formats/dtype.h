// DType: element types shared by safetensors and npy, with sizes, names and shape arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace longrope::formats {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL };

// Every DType, in declaration order; handy for exhaustive tests and loops.
const std::vector<DType>& all_dtypes();

size_t dtype_size(DType dtype);

// The safetensors spelling: "F32", "BF16", "BOOL", ...
const char* safetensors_name(DType dtype);

// Throws FormatError "CONTEXT: unknown dtype 'NAME'"; context names the file and tensor.
DType dtype_from_safetensors_name(const std::string& name, const std::string& context_for_error);

// Element count, or nullopt when a dimension is negative or the product overflows int64.
std::optional<int64_t> checked_numel(const std::vector<int64_t>& shape);

// Byte size of a dense tensor, or nullopt on a negative dimension or any overflow.
std::optional<size_t> checked_nbytes(DType dtype, const std::vector<int64_t>& shape);

// "[2, 3]"; "[]" for a scalar.
std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace longrope::formats
