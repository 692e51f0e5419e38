// npy header parsing (a tiny Python-literal reader) and numpy-compatible writing.
#include "formats/npy.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

#include "formats/atomic_file.h"
#include "formats/format_error.h"

namespace longrope::formats {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct DescrInfo {
  const char* code;  // descr without the byte-order mark
  DType dtype;
};

constexpr DescrInfo kDescrs[] = {
    {"f8", DType::F64}, {"f4", DType::F32}, {"f2", DType::F16}, {"i8", DType::I64},
    {"i4", DType::I32}, {"i2", DType::I16}, {"i1", DType::I8},  {"u8", DType::U64},
    {"u4", DType::U32}, {"u2", DType::U16}, {"u1", DType::U8},  {"b1", DType::BOOL},
};

std::optional<std::string> npy_descr(DType dtype) {
  for (const auto& d : kDescrs) {
    if (d.dtype == dtype) return std::string(dtype_size(dtype) == 1 ? "|" : "<") + d.code;
  }
  return std::nullopt;
}

DType dtype_from_descr(const std::string& descr, const std::string& where) {
  for (const auto& d : kDescrs) {
    if (descr.size() != 3 || descr.compare(1, 2, d.code) != 0) continue;
    const char order = descr[0];
    if (dtype_size(d.dtype) == 1) {
      if (order == '<' || order == '>' || order == '=' || order == '|') return d.dtype;
    } else if (order == '<' || order == '=') {
      return d.dtype;
    } else if (order == '>') {
      throw FormatError(fmt::format("{}: 'descr' '{}' is big-endian; only little-endian is supported", where, descr));
    }
  }
  throw FormatError(fmt::format("{}: unsupported 'descr' '{}'", where, descr));
}

// Reads the fixed dict numpy writes; every step checks the cursor against the end.
class HeaderReader {
 public:
  HeaderReader(const char* begin, const char* end, std::string where)
      : p_(begin), end_(end), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& what) const { throw FormatError(fmt::format("{}: {}", where_, what)); }

  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  // Skips whitespace, then consumes `c` if it is next.
  bool accept(char c) {
    skip_space();
    if (p_ != end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }

  void expect(char c, const char* context) {
    if (!accept(c)) fail(fmt::format("expected '{}' {}", c, context));
  }

  std::string string(const char* context) {
    skip_space();
    if (p_ == end_ || (*p_ != '\'' && *p_ != '"')) fail(fmt::format("expected a string {}", context));
    const char quote = *p_++;
    const char* start = p_;
    while (p_ != end_ && *p_ != quote) {
      if (*p_ == '\\') fail(fmt::format("escape sequence in string {}", context));
      ++p_;
    }
    if (p_ == end_) fail(fmt::format("unterminated string {}", context));
    return std::string(start, p_++);
  }

  bool boolean(const char* field) {
    skip_space();
    for (const char* word : {"True", "False"}) {
      size_t n = std::strlen(word);
      if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, word, n) == 0) {
        p_ += n;
        return word[0] == 'T';
      }
    }
    fail(fmt::format("'{}' is not True or False", field));
  }

  int64_t integer(size_t index) {
    skip_space();
    if (p_ == end_ || *p_ < '0' || *p_ > '9') fail(fmt::format("'shape'[{}] is not a non-negative integer", index));
    int64_t value = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, *p_ - '0', &value)) {
        fail(fmt::format("'shape'[{}] is too large", index));
      }
      ++p_;
    }
    if (p_ != end_ && *p_ == 'L') ++p_;  // Python 2 long literal
    return value;
  }

  std::vector<int64_t> shape() {
    expect('(', "to open 'shape'");
    std::vector<int64_t> dims;
    while (!accept(')')) {
      dims.push_back(integer(dims.size()));
      if (!accept(',')) {
        expect(')', "to close 'shape'");
        break;
      }
    }
    return dims;
  }

  bool at_end_after_space() {
    skip_space();
    return p_ == end_;
  }

 private:
  const char* p_;
  const char* end_;
  std::string where_;
};

uint32_t read_le(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

NpyArray parse_npy(const uint8_t* bytes, size_t size, const std::string& name_for_errors) {
  const std::string& file = name_for_errors;
  if (size < kMagicLen + 4)
    throw FormatError(fmt::format("{}: file is {} bytes, too short for an npy preamble", file, size));
  if (std::memcmp(bytes, kMagic, kMagicLen) != 0) throw FormatError(fmt::format("{}: magic: not an npy file", file));
  const int major = bytes[6];
  const int minor = bytes[7];
  if ((major < 1 || major > 3) || minor != 0) {
    throw FormatError(fmt::format("{}: version: unsupported npy format {}.{}", file, major, minor));
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t header_start = 8 + len_bytes;
  if (size < header_start) throw FormatError(fmt::format("{}: header length: file ends after {} bytes", file, size));
  const size_t header_len = read_le(bytes + 8, static_cast<int>(len_bytes));
  if (header_len > size - header_start) {
    throw FormatError(fmt::format("{}: header length {} past end of file ({} bytes)", file, header_len, size));
  }

  const char* header = reinterpret_cast<const char*>(bytes + header_start);
  HeaderReader reader(header, header + header_len, file + ": header");
  std::optional<std::string> descr;
  std::optional<bool> fortran_order;
  std::optional<std::vector<int64_t>> shape;
  reader.expect('{', "at start of header");
  while (!reader.accept('}')) {
    const std::string key = reader.string("as dict key");
    reader.expect(':', fmt::format("after '{}'", key).c_str());
    if (key == "descr") {
      descr = reader.string("for 'descr' (structured dtypes are unsupported)");
    } else if (key == "fortran_order") {
      fortran_order = reader.boolean("fortran_order");
    } else if (key == "shape") {
      shape = reader.shape();
    } else {
      reader.fail(fmt::format("unexpected key '{}'", key));
    }
    if (!reader.accept(',')) {
      reader.expect('}', "to close header");
      break;
    }
  }
  if (!reader.at_end_after_space()) reader.fail("trailing characters after dict");
  if (!descr) reader.fail("missing 'descr'");
  if (!fortran_order) reader.fail("missing 'fortran_order'");
  if (!shape) reader.fail("missing 'shape'");

  NpyArray array{};
  array.dtype = dtype_from_descr(*descr, file + ": header");
  if (*fortran_order && shape->size() > 1) {
    throw FormatError(
        fmt::format("{}: header: 'fortran_order' True with shape {} is unsupported", file, shape_to_string(*shape)));
  }
  auto nbytes = checked_nbytes(array.dtype, *shape);
  if (!nbytes)
    throw FormatError(fmt::format("{}: header: 'shape' {} overflows the byte size", file, shape_to_string(*shape)));
  const size_t data_start = header_start + header_len;
  if (*nbytes > size - data_start) {
    throw FormatError(fmt::format("{}: data: truncated, '{}' shape {} needs {} bytes but {} remain", file, *descr,
                                  shape_to_string(*shape), *nbytes, size - data_start));
  }
  array.shape = std::move(*shape);
  array.data = bytes + data_start;
  array.nbytes = *nbytes;
  return array;
}

void write_npy(const std::string& path, DType dtype, const std::vector<int64_t>& shape, const void* data,
               size_t nbytes) {
  auto descr = npy_descr(dtype);
  if (!descr) throw std::invalid_argument(fmt::format("{}: dtype {} has no npy descr", path, safetensors_name(dtype)));
  auto expected = checked_nbytes(dtype, shape);
  if (!expected || *expected != nbytes) {
    throw std::invalid_argument(
        fmt::format("{}: nbytes {} does not match {} shape {}", path, nbytes, *descr, shape_to_string(shape)));
  }
  if (data == nullptr && nbytes != 0) throw std::invalid_argument(fmt::format("{}: null data", path));

  std::string shape_repr = "(";
  for (size_t i = 0; i < shape.size(); ++i) shape_repr += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  shape_repr += shape.size() == 1 ? ",)" : ")";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", *descr, shape_repr);
  // numpy >= 1.17 reserves room for the first axis to grow to 21 digits, then pads to 64 bytes.
  if (!shape.empty()) header.append(21 - std::to_string(shape[0]).size(), ' ');
  const size_t preamble = kMagicLen + 2 + 2;
  header.append(64 - (preamble + header.size() + 1) % 64, ' ');
  header += '\n';
  if (header.size() > std::numeric_limits<uint16_t>::max()) {
    throw std::invalid_argument(fmt::format("{}: npy header too long for format 1.0", path));
  }

  AtomicFile file(path);
  std::ostream& out = file.stream();
  out.write(kMagic, kMagicLen);
  const char version_and_len[4] = {1, 0, static_cast<char>(header.size() & 0xff),
                                   static_cast<char>(header.size() >> 8)};
  out.write(version_and_len, 4);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(nbytes));
  file.commit();
}

}  // namespace longrope::formats
