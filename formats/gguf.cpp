// GGUF parsing, with a bounds check before every read, and the writer.
#include "formats/gguf.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>
#include <type_traits>

#include "formats/atomic_file.h"
#include "formats/format_error.h"
#include "formats/input_file.h"

namespace longrope::formats {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // the bytes "GGUF" read as a little-endian u32
constexpr uint32_t kWriteVersion = 3;

constexpr const char* kTypeNames[kGgufTypeCount] = {"UINT8",   "INT8",   "UINT16", "INT16", "UINT32",
                                                    "INT32",   "FLOAT32", "BOOL",  "STRING", "ARRAY",
                                                    "UINT64",  "INT64",  "FLOAT64"};

// Sizes from ggml's type_traits (ggml/src/ggml.c), as mirrored by gguf-py's GGML_QUANT_SIZES.
constexpr GgmlTypeTraits kGgmlTypes[] = {
    {GgmlType::F32, "F32", 1, 4},           {GgmlType::F16, "F16", 1, 2},
    {GgmlType::Q4_0, "Q4_0", 32, 18},       {GgmlType::Q4_1, "Q4_1", 32, 20},
    {GgmlType::Q5_0, "Q5_0", 32, 22},       {GgmlType::Q5_1, "Q5_1", 32, 24},
    {GgmlType::Q8_0, "Q8_0", 32, 34},       {GgmlType::Q8_1, "Q8_1", 32, 40},
    {GgmlType::Q2_K, "Q2_K", 256, 84},      {GgmlType::Q3_K, "Q3_K", 256, 110},
    {GgmlType::Q4_K, "Q4_K", 256, 144},     {GgmlType::Q5_K, "Q5_K", 256, 176},
    {GgmlType::Q6_K, "Q6_K", 256, 210},     {GgmlType::Q8_K, "Q8_K", 256, 292},
    {GgmlType::IQ2_XXS, "IQ2_XXS", 256, 66}, {GgmlType::IQ2_XS, "IQ2_XS", 256, 74},
    {GgmlType::IQ3_XXS, "IQ3_XXS", 256, 98}, {GgmlType::IQ1_S, "IQ1_S", 256, 50},
    {GgmlType::IQ4_NL, "IQ4_NL", 32, 18},   {GgmlType::IQ3_S, "IQ3_S", 256, 110},
    {GgmlType::IQ2_S, "IQ2_S", 256, 82},    {GgmlType::IQ4_XS, "IQ4_XS", 256, 136},
    {GgmlType::I8, "I8", 1, 1},             {GgmlType::I16, "I16", 1, 2},
    {GgmlType::I32, "I32", 1, 4},           {GgmlType::I64, "I64", 1, 8},
    {GgmlType::F64, "F64", 1, 8},           {GgmlType::IQ1_M, "IQ1_M", 256, 56},
    {GgmlType::BF16, "BF16", 1, 2},         {GgmlType::TQ1_0, "TQ1_0", 256, 54},
    {GgmlType::TQ2_0, "TQ2_0", 256, 66},    {GgmlType::MXFP4, "MXFP4", 32, 17},
    {GgmlType::NVFP4, "NVFP4", 64, 36},     {GgmlType::Q1_0, "Q1_0", 128, 18},
};

// The fewest bytes a value can take: a string's length, an array's element type and count.
uint64_t min_value_bytes(GgufType type) {
  switch (type) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: case GgufType::STRING: return 8;
    case GgufType::ARRAY: return 12;
  }
  return 1;
}

std::string describe(const GgufValue& v) {
  if (const auto* a = v.get_if<GgufArray>()) return fmt::format("ARRAY of {}", gguf_type_name(a->element_type));
  return gguf_type_name(v.type());
}

// Reads little-endian fields out of untrusted bytes; every read is checked against the end.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& file) : data_(data), size_(size), file_(file) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw FormatError(fmt::format("{}: {}: {}", file_, where, what));
  }

  template <typename T>
  T read(const std::string& where, const char* field) {
    if (remaining() < sizeof(T))
      fail(where, fmt::format("{} truncated at byte {} (the file has {} bytes)", field, pos_, size_));
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  GgufType read_type(const std::string& where, const char* field) {
    const uint32_t t = read<uint32_t>(where, field);
    if (t >= kGgufTypeCount) fail(where, fmt::format("unknown {} {}", field, t));
    return static_cast<GgufType>(t);
  }

  std::string read_string(const std::string& where, const char* field, uint64_t max_bytes) {
    const uint64_t n = read<uint64_t>(where, field);
    if (n > max_bytes) fail(where, fmt::format("{} length {} exceeds the limit of {} bytes", field, n, max_bytes));
    if (n > remaining())
      fail(where, fmt::format("{} length {} runs past the end of the file ({} bytes left)", field, n, remaining()));
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& file_;
};

GgufValue read_value(Cursor& c, GgufType type, int depth, const std::string& where) {
  switch (type) {
    case GgufType::UINT8: return GgufValue::of<uint8_t>(c.read<uint8_t>(where, "value"));
    case GgufType::INT8: return GgufValue::of<int8_t>(c.read<int8_t>(where, "value"));
    case GgufType::UINT16: return GgufValue::of<uint16_t>(c.read<uint16_t>(where, "value"));
    case GgufType::INT16: return GgufValue::of<int16_t>(c.read<int16_t>(where, "value"));
    case GgufType::UINT32: return GgufValue::of<uint32_t>(c.read<uint32_t>(where, "value"));
    case GgufType::INT32: return GgufValue::of<int32_t>(c.read<int32_t>(where, "value"));
    case GgufType::FLOAT32: return GgufValue::of<float>(c.read<float>(where, "value"));
    case GgufType::UINT64: return GgufValue::of<uint64_t>(c.read<uint64_t>(where, "value"));
    case GgufType::INT64: return GgufValue::of<int64_t>(c.read<int64_t>(where, "value"));
    case GgufType::FLOAT64: return GgufValue::of<double>(c.read<double>(where, "value"));
    case GgufType::BOOL: {
      const uint8_t b = c.read<uint8_t>(where, "value");
      if (b > 1) c.fail(where, fmt::format("BOOL value {} is neither 0 nor 1", b));
      return GgufValue::of<bool>(b == 1);
    }
    case GgufType::STRING: return GgufValue::of<std::string>(c.read_string(where, "string", GgufFile::kMaxStringBytes));
    case GgufType::ARRAY: {
      if (depth >= GgufFile::kMaxArrayDepth)
        c.fail(where, fmt::format("arrays nested deeper than {}", GgufFile::kMaxArrayDepth));
      GgufArray a;
      a.element_type = c.read_type(where, "array element type");
      const uint64_t n = c.read<uint64_t>(where, "array length");
      if (n > c.remaining() / min_value_bytes(a.element_type))
        c.fail(where, fmt::format("array of {} {} values cannot fit in the {} bytes left", n,
                                  gguf_type_name(a.element_type), c.remaining()));
      a.elements.reserve(n);
      for (uint64_t i = 0; i < n; ++i) a.elements.push_back(read_value(c, a.element_type, depth + 1, where));
      return GgufValue::of<GgufArray>(std::move(a));
    }
  }
  c.fail(where, "unknown value type");
}

bool is_power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

std::string printable(const uint8_t* bytes, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t b = bytes[i];
    out += b >= 0x20 && b < 0x7f ? std::string(1, static_cast<char>(b)) : fmt::format("\\x{:02x}", b);
  }
  return out;
}

// ---- writing ----------------------------------------------------------------------------------

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

void put_value(std::string& out, const GgufValue& value, const std::string& key) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          put_string(out, v);
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          put<uint32_t>(out, static_cast<uint32_t>(v.element_type));
          put<uint64_t>(out, v.elements.size());
          for (size_t i = 0; i < v.elements.size(); ++i) {
            if (v.elements[i].type() != v.element_type)
              throw std::invalid_argument(fmt::format("key '{}': array element {} is {}, the array holds {}", key, i,
                                                      gguf_type_name(v.elements[i].type()),
                                                      gguf_type_name(v.element_type)));
            put_value(out, v.elements[i], key);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          put<uint8_t>(out, v ? 1 : 0);
        } else {
          put<T>(out, v);
        }
      },
      value.data);
}

uint32_t alignment_of(const std::vector<GgufKv>& kvs) {
  for (const auto& kv : kvs) {
    if (kv.key != "general.alignment") continue;
    const auto* a = kv.value.get_if<uint32_t>();
    if (a == nullptr)
      throw std::invalid_argument(fmt::format("key 'general.alignment': expected UINT32, got {}", describe(kv.value)));
    if (!is_power_of_two(*a))
      throw std::invalid_argument(fmt::format("key 'general.alignment': {} is not a power of two", *a));
    return *a;
  }
  return GgufFile::kDefaultAlignment;
}

}  // namespace

const char* gguf_type_name(GgufType type) {
  const auto t = static_cast<uint32_t>(type);
  return t < kGgufTypeCount ? kTypeNames[t] : "?";
}

GgufValue GgufValue::f32_array(const std::vector<float>& values) {
  std::vector<GgufValue> elements;
  elements.reserve(values.size());
  for (float v : values) elements.push_back(f32(v));
  return array(GgufType::FLOAT32, std::move(elements));
}

GgufValue GgufValue::string_array(const std::vector<std::string>& values) {
  std::vector<GgufValue> elements;
  elements.reserve(values.size());
  for (const auto& v : values) elements.push_back(string(v));
  return array(GgufType::STRING, std::move(elements));
}

bool operator==(const GgufArray& a, const GgufArray& b) {
  return a.element_type == b.element_type && a.elements == b.elements;
}

bool operator==(const GgufValue& a, const GgufValue& b) { return a.data == b.data; }

const GgmlTypeTraits* ggml_type_traits(uint32_t type) {
  for (const auto& t : kGgmlTypes) {
    if (static_cast<uint32_t>(t.type) == type) return &t;
  }
  return nullptr;
}

const char* ggml_type_name(GgmlType type) {
  const GgmlTypeTraits* t = ggml_type_traits(static_cast<uint32_t>(type));
  return t != nullptr ? t->name : "?";
}

std::optional<uint64_t> ggml_nbytes(GgmlType type, const std::vector<uint64_t>& dims) {
  const GgmlTypeTraits* t = ggml_type_traits(static_cast<uint32_t>(type));
  if (t == nullptr) return std::nullopt;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t rows = 1;  // product of dims[1..]
  for (size_t i = 1; i < dims.size(); ++i) {
    if (dims[i] != 0 && rows > kMax / dims[i]) return std::nullopt;
    rows *= dims[i];
  }
  const uint64_t row_elements = dims.empty() ? 1 : dims[0];
  if (row_elements % t->block_size != 0) return std::nullopt;
  const uint64_t row_bytes_blocks = row_elements / t->block_size;
  if (row_bytes_blocks > kMax / t->block_bytes) return std::nullopt;
  const uint64_t row_bytes = row_bytes_blocks * t->block_bytes;
  if (row_bytes != 0 && rows > kMax / row_bytes) return std::nullopt;
  return rows * row_bytes;
}

bool is_gguf_file(const std::string& path) {
  int fd = -1;
  try {
    fd = open_regular_file(path, nullptr);  // a FIFO is no GGUF, and must not block the question
  } catch (const std::runtime_error&) {
    return false;
  }
  uint32_t magic = 0;
  const bool read = ::read(fd, &magic, sizeof magic) == static_cast<ssize_t>(sizeof magic);
  ::close(fd);
  return read && magic == kMagic;
}

uint64_t gguf_align(uint64_t x, uint64_t alignment) { return x + (alignment - x % alignment) % alignment; }

// ---- GgufFile ---------------------------------------------------------------------------------

GgufFile GgufFile::open(const std::string& path) {
  MappedFile mapping = MappedFile::open(path);
  GgufFile file = parse(mapping.data(), mapping.size(), path);
  file.mapping_.emplace(std::move(mapping));  // the views point at the mapping's bytes, which do not move
  return file;
}

GgufFile GgufFile::parse(const uint8_t* bytes, size_t size, const std::string& name_for_errors) {
  GgufFile f;
  f.path_ = name_for_errors;
  Cursor c(bytes, size, f.path_);
  if (size < 24) c.fail("header", fmt::format("truncated: the file has {} bytes, a GGUF header needs 24", size));
  const uint32_t magic = c.read<uint32_t>("header", "magic");
  if (magic != kMagic) c.fail("header", fmt::format("bad magic '{}' (expected 'GGUF'): not a GGUF file", printable(bytes, 4)));
  f.version_ = c.read<uint32_t>("header", "version");
  if (f.version_ == 1) c.fail("header", "GGUF version 1 is not supported (re-convert the model)");
  if (f.version_ != 2 && f.version_ != 3) {
    if ((f.version_ & 0xFFFFu) == 0)
      c.fail("header", fmt::format("version 0x{:08x} looks byte-swapped: big-endian GGUF is not supported", f.version_));
    c.fail("header", fmt::format("unsupported version {} (expected 2 or 3)", f.version_));
  }
  const uint64_t tensor_count = c.read<uint64_t>("header", "tensor_count");
  const uint64_t kv_count = c.read<uint64_t>("header", "kv_count");
  // Each KV takes at least 13 bytes (key length, type, a one-byte value), each tensor info 24.
  if (kv_count > c.remaining() / 13)
    c.fail("header", fmt::format("kv_count {} cannot fit in the {} bytes after the header", kv_count, c.remaining()));
  if (tensor_count > c.remaining() / 24)
    c.fail("header", fmt::format("tensor_count {} cannot fit in the {} bytes after the header", tensor_count, c.remaining()));

  f.kvs_.reserve(kv_count);
  for (uint64_t i = 0; i < kv_count; ++i) {
    const uint64_t start = c.pos();
    std::string key = c.read_string(fmt::format("key #{}", i), "key", kMaxKeyBytes);
    const std::string where = fmt::format("key '{}'", key);
    if (f.kv_index_.count(key) != 0) c.fail(where, "duplicate key");
    const GgufType type = c.read_type(where, "value type");
    GgufValue value = read_value(c, type, 0, where);
    const std::string_view raw(reinterpret_cast<const char*>(bytes + start), c.pos() - start);
    f.kv_index_.emplace(key, f.kvs_.size());
    f.kvs_.push_back(GgufKv{std::move(key), std::move(value), raw});
  }
  if (const GgufValue* a = f.find("general.alignment")) {
    const auto* v = a->get_if<uint32_t>();
    if (v == nullptr) c.fail("key 'general.alignment'", fmt::format("expected UINT32, got {}", describe(*a)));
    if (!is_power_of_two(*v)) c.fail("key 'general.alignment'", fmt::format("{} is not a power of two", *v));
    f.alignment_ = *v;
  }

  f.tensors_.reserve(tensor_count);
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo t;
    t.name = c.read_string(fmt::format("tensor #{}", i), "tensor name", kMaxTensorNameBytes);
    const std::string where = fmt::format("tensor '{}'", t.name);
    if (f.tensor_index_.count(t.name) != 0) c.fail(where, "duplicate tensor name");
    const uint32_t n_dims = c.read<uint32_t>(where, "n_dims");
    if (n_dims > kMaxDims) c.fail(where, fmt::format("n_dims {} exceeds {}", n_dims, kMaxDims));
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim = c.read<uint64_t>(where, "dims");
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        c.fail(where, fmt::format("dims[{}] = {} is too large", d, dim));
      t.dims.push_back(dim);
    }
    const uint32_t type = c.read<uint32_t>(where, "type");
    const GgmlTypeTraits* traits = ggml_type_traits(type);
    if (traits == nullptr) c.fail(where, fmt::format("unknown ggml type {}", type));
    t.type = traits->type;
    t.offset = c.read<uint64_t>(where, "offset");
    const std::optional<uint64_t> nbytes = ggml_nbytes(t.type, t.dims);
    if (!nbytes) {
      const uint64_t dim0 = t.dims.empty() ? 1 : t.dims[0];
      if (dim0 % traits->block_size != 0)
        c.fail(where, fmt::format("dims[0] = {} is not a multiple of {}'s block size {}", dim0, traits->name,
                                  traits->block_size));
      c.fail(where, "byte size overflows int64");
    }
    t.nbytes = *nbytes;
    if (t.offset % f.alignment_ != 0)
      c.fail(where, fmt::format("offset {} is not a multiple of the alignment {}", t.offset, f.alignment_));
    f.tensor_index_.emplace(t.name, f.tensors_.size());
    f.tensors_.push_back(std::move(t));
  }

  f.data_offset_ = gguf_align(c.pos(), f.alignment_);
  if (f.data_offset_ > size) {
    if (!f.tensors_.empty())
      c.fail("header", fmt::format("data section would start at byte {}, past the end of the file ({} bytes)",
                                   f.data_offset_, size));
    f.data_offset_ = size;  // no tensors: writers may stop right after the metadata
  }
  const uint64_t available = size - f.data_offset_;
  for (auto& t : f.tensors_) {
    if (t.offset > available || t.nbytes > available - t.offset)
      c.fail(fmt::format("tensor '{}'", t.name),
             fmt::format("data [{}, {}) is not within the file (the data section holds {} bytes)", t.offset,
                         t.offset + t.nbytes, available));
    t.data = bytes + f.data_offset_ + t.offset;
  }
  // Alignment leaves gaps, but no two tensors may share a byte: one would read the other's values.
  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& t : f.tensors_)
    if (t.nbytes > 0) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->offset < by_offset[i - 1]->offset + by_offset[i - 1]->nbytes)
      c.fail(fmt::format("tensor '{}'", by_offset[i]->name),
             fmt::format("data [{}, {}) overlaps tensor '{}' [{}, {})", by_offset[i]->offset, by_offset[i]->offset + by_offset[i]->nbytes,
                         by_offset[i - 1]->name, by_offset[i - 1]->offset, by_offset[i - 1]->offset + by_offset[i - 1]->nbytes));
  return f;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const GgufValue& GgufFile::get(const std::string& key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) throw FormatError(fmt::format("{}: key '{}': missing", path_, key));
  return *v;
}

void GgufFile::type_error(const std::string& key, const char* expected, const GgufValue& got) const {
  throw FormatError(fmt::format("{}: key '{}': expected {}, got {}", path_, key, expected, describe(got)));
}

uint32_t GgufFile::get_u32(const std::string& key) const {
  const GgufValue& v = get(key);
  if (const auto* p = v.get_if<uint32_t>()) return *p;
  type_error(key, "UINT32", v);
}

uint64_t GgufFile::get_uint(const std::string& key) const {
  const GgufValue& v = get(key);
  const std::optional<int64_t> as_signed = std::visit(
      [](const auto& x) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) return static_cast<int64_t>(x);
        return std::nullopt;
      },
      v.data);
  if (as_signed) {
    if (*as_signed < 0) throw FormatError(fmt::format("{}: key '{}': expected a value >= 0, got {}", path_, key, *as_signed));
    return static_cast<uint64_t>(*as_signed);
  }
  if (const auto* p = v.get_if<uint8_t>()) return *p;
  if (const auto* p = v.get_if<uint16_t>()) return *p;
  if (const auto* p = v.get_if<uint32_t>()) return *p;
  if (const auto* p = v.get_if<uint64_t>()) return *p;
  type_error(key, "an integer", v);
}

float GgufFile::get_f32(const std::string& key) const {
  const GgufValue& v = get(key);
  if (const auto* p = v.get_if<float>()) return *p;
  type_error(key, "FLOAT32", v);
}

double GgufFile::get_float(const std::string& key) const {
  const GgufValue& v = get(key);
  if (const auto* p = v.get_if<float>()) return *p;
  if (const auto* p = v.get_if<double>()) return *p;
  type_error(key, "FLOAT32 or FLOAT64", v);
}

bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = get(key);
  if (const auto* p = v.get_if<bool>()) return *p;
  type_error(key, "BOOL", v);
}

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = get(key);
  if (const auto* p = v.get_if<std::string>()) return *p;
  type_error(key, "STRING", v);
}

template <typename T>
std::vector<T> GgufFile::get_array(const std::string& key, GgufType element_type) const {
  const GgufValue& v = get(key);
  const auto* a = v.get_if<GgufArray>();
  if (a == nullptr || a->element_type != element_type)
    type_error(key, fmt::format("ARRAY of {}", gguf_type_name(element_type)).c_str(), v);
  std::vector<T> out;
  out.reserve(a->elements.size());
  for (const auto& e : a->elements) out.push_back(std::get<T>(e.data));
  return out;
}

std::vector<float> GgufFile::get_f32_array(const std::string& key) const {
  return get_array<float>(key, GgufType::FLOAT32);
}
std::vector<uint32_t> GgufFile::get_u32_array(const std::string& key) const {
  return get_array<uint32_t>(key, GgufType::UINT32);
}
std::vector<int32_t> GgufFile::get_i32_array(const std::string& key) const {
  return get_array<int32_t>(key, GgufType::INT32);
}
std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
  return get_array<std::string>(key, GgufType::STRING);
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::tensor(const std::string& name) const {
  const GgufTensorInfo* t = find_tensor(name);
  if (t == nullptr) throw FormatError(fmt::format("{}: no tensor '{}'", path_, name));
  return *t;
}

// ---- writer -----------------------------------------------------------------------------------

void write_gguf_to(std::ostream& out, const std::vector<GgufKv>& kvs, const std::vector<GgufTensorToWrite>& tensors) {
  const uint32_t alignment = alignment_of(kvs);
  std::string header;
  put<uint32_t>(header, kMagic);
  put<uint32_t>(header, kWriteVersion);
  put<uint64_t>(header, tensors.size());
  put<uint64_t>(header, kvs.size());

  std::set<std::string> keys;
  for (const auto& kv : kvs) {
    if (kv.key.empty() || kv.key.size() > GgufFile::kMaxKeyBytes)
      throw std::invalid_argument(fmt::format("key '{}': length {} is not in [1, {}]", kv.key, kv.key.size(),
                                              GgufFile::kMaxKeyBytes));
    if (!keys.insert(kv.key).second) throw std::invalid_argument(fmt::format("key '{}': duplicate key", kv.key));
    if (!kv.raw.empty()) {
      std::string prefix;
      put_string(prefix, kv.key);
      if (kv.raw.size() <= prefix.size() || kv.raw.compare(0, prefix.size(), prefix) != 0)
        throw std::invalid_argument(fmt::format("key '{}': raw bytes belong to another key", kv.key));
      header.append(kv.raw.data(), kv.raw.size());
      continue;
    }
    put_string(header, kv.key);
    put<uint32_t>(header, static_cast<uint32_t>(kv.value.type()));
    put_value(header, kv.value, kv.key);
  }

  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::string where = fmt::format("tensor '{}'", t.name);
    if (t.name.size() > GgufFile::kMaxTensorNameBytes)
      throw std::invalid_argument(fmt::format("{}: name longer than {} bytes", where, GgufFile::kMaxTensorNameBytes));
    if (!names.insert(t.name).second) throw std::invalid_argument(where + ": duplicate tensor name");
    if (t.dims.size() > GgufFile::kMaxDims)
      throw std::invalid_argument(fmt::format("{}: {} dims exceed {}", where, t.dims.size(), GgufFile::kMaxDims));
    const std::optional<uint64_t> nbytes = ggml_nbytes(t.type, t.dims);
    if (!nbytes || *nbytes != t.nbytes)
      throw std::invalid_argument(fmt::format("{}: {} bytes given, {} with these dims needs {}", where, t.nbytes,
                                              ggml_type_name(t.type), nbytes ? std::to_string(*nbytes) : "a whole block per row"));
    if (t.data == nullptr && t.nbytes != 0) throw std::invalid_argument(where + ": no data");
    put_string(header, t.name);
    put<uint32_t>(header, static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) put<uint64_t>(header, d);
    put<uint32_t>(header, static_cast<uint32_t>(t.type));
    put<uint64_t>(header, offset);
    offset = gguf_align(offset + t.nbytes, alignment);
  }
  header.resize(gguf_align(header.size(), alignment), '\0');
  out.write(header.data(), static_cast<std::streamsize>(header.size()));

  const std::string zeros(alignment, '\0');
  for (const auto& t : tensors) {
    out.write(static_cast<const char*>(t.data), static_cast<std::streamsize>(t.nbytes));
    out.write(zeros.data(), static_cast<std::streamsize>(gguf_align(t.nbytes, alignment) - t.nbytes));
  }
}

void write_gguf(const std::string& path, const std::vector<GgufKv>& kvs, const std::vector<GgufTensorToWrite>& tensors) {
  AtomicFile file(path);
  write_gguf_to(file.stream(), kvs, tensors);
  file.commit();  // names the path and the cause of a failed write (a full disk, a file-size limit)
}

}  // namespace longrope::formats
