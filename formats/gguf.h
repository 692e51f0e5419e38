// gguf: GGUF (versions 2 and 3) zero-copy reader and atomic writer, one module for export and loading.
//
// Byte layout (little-endian; a "string" is a u64 byte length followed by that many bytes, no NUL):
//   u32     magic, the bytes "GGUF" (47 47 55 46)
//   u32     version: 3 (2 has the same layout; 1, with u32 counts, is refused)
//   u64     tensor_count
//   u64     kv_count
//   kv_count times:      string key; u32 value type (GgufType); value
//       value: UINT8..FLOAT64 in their fixed-size encoding (BOOL: one byte, 0 or 1); STRING: a string;
//              ARRAY: u32 element type, u64 count, then count values of that type (arrays may nest)
//   tensor_count times:  string name; u32 n_dims (at most 4); u64 dims[n_dims]; u32 ggml type (GgmlType);
//                        u64 offset, relative to the data section and a multiple of ALIGNMENT
//   zero padding up to a multiple of ALIGNMENT = general.alignment (a UINT32 power of two; default 32)
//   data section: each tensor's bytes at its offset, gaps zero-padded to ALIGNMENT
// dims are in ggml order: dims[0] varies fastest, so a PyTorch [n_out, n_in] weight has dims
// [n_in, n_out]. A quantized type stores dims[0] / block_size blocks of block_bytes per row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "formats/mapped_file.h"

namespace longrope::formats {

// Metadata value types; the numbers are the file's.
enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
constexpr uint32_t kGgufTypeCount = 13;
const char* gguf_type_name(GgufType type);  // "UINT32", ...

struct GgufValue;

struct GgufArray {
  GgufType element_type = GgufType::UINT8;
  std::vector<GgufValue> elements;  // every one of type element_type
};

// One metadata value. The variant's alternative index is the GgufType number, so type() is free
// and a new alternative cannot slip in out of order.
struct GgufValue {
  std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string, GgufArray, uint64_t,
               int64_t, double>
      data;

  GgufType type() const { return static_cast<GgufType>(data.index()); }
  template <typename T>
  const T* get_if() const { return std::get_if<T>(&data); }

  // Holds exactly a T, which must be one of the alternatives (no conversions between them).
  template <typename T>
  static GgufValue of(T v) {
    GgufValue r;
    r.data.template emplace<T>(std::move(v));
    return r;
  }
  static GgufValue u32(uint32_t v) { return of<uint32_t>(v); }
  static GgufValue u64(uint64_t v) { return of<uint64_t>(v); }
  static GgufValue i32(int32_t v) { return of<int32_t>(v); }
  static GgufValue i64(int64_t v) { return of<int64_t>(v); }
  static GgufValue f32(float v) { return of<float>(v); }
  static GgufValue f64(double v) { return of<double>(v); }
  static GgufValue boolean(bool v) { return of<bool>(v); }
  static GgufValue string(std::string v) { return of<std::string>(std::move(v)); }
  static GgufValue array(GgufType element_type, std::vector<GgufValue> elements) {
    return of<GgufArray>(GgufArray{element_type, std::move(elements)});
  }
  static GgufValue f32_array(const std::vector<float>& values);
  static GgufValue string_array(const std::vector<std::string>& values);
};

// Exact equality (same types all the way down; floats compare as numbers).
bool operator==(const GgufArray& a, const GgufArray& b);
bool operator==(const GgufValue& a, const GgufValue& b);
inline bool operator!=(const GgufValue& a, const GgufValue& b) { return !(a == b); }

struct GgufKv {
  std::string key;
  GgufValue value;
  // The KV's bytes exactly as read (key, type and value), pointing into the file; empty for a KV
  // built in memory. The writer copies non-empty raw bytes verbatim instead of encoding `value`,
  // so a rewrite keeps unknown KVs byte-for-byte: build a new GgufKv to change a value.
  std::string_view raw;
};

// Tensor element types (ggml_type); the numbers are the file's. Gaps are removed types.
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35,
  MXFP4 = 39, NVFP4 = 40, Q1_0 = 41,
};

struct GgmlTypeTraits {
  GgmlType type;
  const char* name;      // "Q4_K"
  uint32_t block_size;   // elements per block along dims[0]
  uint32_t block_bytes;  // bytes per block
};

// nullptr for a number that is not (or no longer) a ggml type.
const GgmlTypeTraits* ggml_type_traits(uint32_t type);
const char* ggml_type_name(GgmlType type);
// Byte size of a tensor, or nullopt when dims[0] is not a multiple of the block size or the size
// overflows int64 (ggml's limit).
std::optional<uint64_t> ggml_nbytes(GgmlType type, const std::vector<uint64_t>& dims);

// True when `path` is a readable file starting with the GGUF magic (what a GGUF reader must see first).
bool is_gguf_file(const std::string& path);

// x rounded up to a multiple of alignment (a power of two).
uint64_t gguf_align(uint64_t x, uint64_t alignment);

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] varies fastest
  GgmlType type;
  uint64_t offset;             // from the start of the data section
  const uint8_t* data;         // into the file's bytes; lives as long as the GgufFile (moves included)
  uint64_t nbytes;
};

// Untrusted input: every count, length and offset is checked against the bytes remaining and the
// limits below, and every failure is a one-line FormatError naming the file and the key or tensor.
class GgufFile {
 public:
  static constexpr uint64_t kMaxKeyBytes = 65535;         // GGUF spec
  static constexpr uint64_t kMaxStringBytes = 1ull << 30; // any one string value
  static constexpr uint64_t kMaxTensorNameBytes = 63;     // GGML_MAX_NAME (64) with its NUL
  static constexpr uint32_t kMaxDims = 4;                 // GGML_MAX_DIMS
  static constexpr int kMaxArrayDepth = 8;                // nesting of arrays in arrays
  static constexpr uint32_t kDefaultAlignment = 32;

  // Maps `path` and keeps the mapping alive for the views.
  static GgufFile open(const std::string& path);
  // Views into caller-owned bytes, which must outlive the result.
  static GgufFile parse(const uint8_t* bytes, size_t size, const std::string& name_for_errors);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // where the data section starts in the file
  const std::string& path() const { return path_; }

  const std::vector<GgufKv>& kvs() const { return kvs_; }  // in file order
  const GgufValue* find(const std::string& key) const;     // nullptr when absent
  // The typed getters throw FormatError "FILE: key 'KEY': missing" or "...: expected UINT32, got STRING".
  const GgufValue& get(const std::string& key) const;
  uint32_t get_u32(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;  // any integer type holding a value >= 0
  float get_f32(const std::string& key) const;
  double get_float(const std::string& key) const;   // FLOAT32 or FLOAT64
  bool get_bool(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  std::vector<float> get_f32_array(const std::string& key) const;
  std::vector<uint32_t> get_u32_array(const std::string& key) const;
  std::vector<int32_t> get_i32_array(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // in file order
  const GgufTensorInfo* find_tensor(const std::string& name) const;        // nullptr when absent
  const GgufTensorInfo& tensor(const std::string& name) const;             // FormatError "FILE: no tensor 'NAME'"

 private:
  GgufFile() = default;
  [[noreturn]] void type_error(const std::string& key, const char* expected, const GgufValue& got) const;
  template <typename T>
  std::vector<T> get_array(const std::string& key, GgufType element_type) const;

  std::string path_;
  std::optional<MappedFile> mapping_;  // empty when parse() got caller-owned bytes
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKv> kvs_;
  std::map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

struct GgufTensorToWrite {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order
  GgmlType type;
  const void* data;
  uint64_t nbytes;  // must equal ggml_nbytes(type, dims)
};

// Writes a version-3 file: the KVs in order (non-empty raw bytes verbatim), then the tensor infos,
// then the tensors packed in order, each at the next multiple of the alignment (general.alignment
// when given, else 32). Throws std::invalid_argument for inconsistent input (duplicate keys or
// tensor names, a bad general.alignment, arrays mixing types, more than 4 dims, names past the
// limits, nbytes not matching type and dims); the stream's own state tells whether it was written
// (AtomicFile::flush names the cause).
void write_gguf_to(std::ostream& out, const std::vector<GgufKv>& kvs, const std::vector<GgufTensorToWrite>& tensors);
// The same, atomically (AtomicFile): readers never see a half-written file.
void write_gguf(const std::string& path, const std::vector<GgufKv>& kvs, const std::vector<GgufTensorToWrite>& tensors);

}  // namespace longrope::formats
