// Tests for the GGUF reader/writer: round trips of every value type and several tensor types, and
// handcrafted broken files that must fail with a one-line message naming the key or tensor.
#include "formats/gguf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <stdexcept>

#include "formats/format_error.h"
#include "tests/test_files.h"

namespace longrope::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// The FormatError message of f(), checked to be one line; "<no FormatError>" when none is thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const FormatError& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "multi-line message: " << msg;
    return msg;
  }
  return "<no FormatError>";
}

template <typename F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no invalid_argument>";
}

std::vector<uint8_t> pattern(size_t n, int seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 37 + seed * 11 + 5);
  return v;
}

std::string encode(const std::vector<GgufKv>& kvs, const std::vector<GgufTensorToWrite>& tensors) {
  std::ostringstream out;
  write_gguf_to(out, kvs, tensors);
  return out.str();
}

GgufFile parse(const std::string& bytes, const std::string& name = "t.gguf") {
  return GgufFile::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name);
}

std::string parse_error(const std::string& bytes) {
  return error_of([&] { parse(bytes, "hand.gguf"); });
}

GgufKv kv(std::string key, GgufValue value) { return GgufKv{std::move(key), std::move(value), {}}; }

// Builds handcrafted files field by field, so each test breaks exactly one thing.
struct Bytes {
  std::string s;
  Bytes& u32(uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); return *this; }
  Bytes& u64(uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); return *this; }
  Bytes& u8(uint8_t v) { s += static_cast<char>(v); return *this; }
  Bytes& str(const std::string& v) { u64(v.size()); s += v; return *this; }
  Bytes& header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    s += "GGUF";
    return u32(version).u64(tensors).u64(kvs);
  }
  Bytes& string_kv(const std::string& key, const std::string& value) { return str(key).u32(8).str(value); }
  Bytes& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  Bytes& pad(size_t alignment = 32) { s.resize((s.size() + alignment - 1) / alignment * alignment, '\0'); return *this; }
  Bytes& data(size_t n) { s.append(n, '\x5a'); return *this; }
};

// A valid one-tensor file ("t", F32 [4]) that each corruption test starts from.
Bytes one_tensor_file(uint32_t type = 0, uint64_t dim = 4, uint64_t offset = 0, size_t data_bytes = 16) {
  Bytes b;
  b.header(1, 1).string_kv("general.architecture", "llama").tensor("t", {dim}, type, offset).pad().data(data_bytes);
  return b;
}

std::vector<GgufKv> every_value_type() {
  std::vector<GgufKv> kvs = {
      kv("general.architecture", GgufValue::string("llama")),
      kv("t.u8", GgufValue::of<uint8_t>(200)),
      kv("t.i8", GgufValue::of<int8_t>(-100)),
      kv("t.u16", GgufValue::of<uint16_t>(60000)),
      kv("t.i16", GgufValue::of<int16_t>(-30000)),
      kv("t.u32", GgufValue::u32(4000000000u)),
      kv("t.i32", GgufValue::i32(-2000000000)),
      kv("t.f32", GgufValue::f32(1.25f)),
      kv("t.bool", GgufValue::boolean(true)),
      kv("t.string", GgufValue::string("λ ünïcode, no NUL")),
      kv("t.u64", GgufValue::u64(1ull << 60)),
      kv("t.i64", GgufValue::i64(-(1ll << 60))),
      kv("t.f64", GgufValue::f64(3.141592653589793)),
      kv("t.f32_array", GgufValue::f32_array({1.0f, 2.5f, -3.0f})),
      kv("t.string_array", GgufValue::string_array({"<s>", "", "hello"})),
      kv("t.empty_array", GgufValue::array(GgufType::INT32, {})),
      kv("t.nested", GgufValue::array(GgufType::ARRAY, {GgufValue::array(GgufType::UINT32, {GgufValue::u32(1), GgufValue::u32(2)}),
                                                        GgufValue::array(GgufType::UINT32, {})})),
  };
  return kvs;
}

struct TensorCase {
  std::string name;
  std::vector<uint64_t> dims;
  GgmlType type;
  uint64_t nbytes;
};

const std::vector<TensorCase>& tensor_cases() {
  static const std::vector<TensorCase> cases = {
      {"f32", {3, 2}, GgmlType::F32, 24},        {"f16", {5}, GgmlType::F16, 10},
      {"bf16", {2, 1, 1, 3}, GgmlType::BF16, 12}, {"q8_0", {64, 2}, GgmlType::Q8_0, 4 * 34},
      {"q4_0", {32, 3}, GgmlType::Q4_0, 3 * 18}, {"q4_k", {256}, GgmlType::Q4_K, 144},
      {"q6_k", {512}, GgmlType::Q6_K, 2 * 210},  {"i32", {3}, GgmlType::I32, 12},
      {"scalar", {}, GgmlType::F32, 4},
  };
  return cases;
}

class GgufTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir("gguf");
    for (size_t i = 0; i < tensor_cases().size(); ++i) data_.push_back(pattern(tensor_cases()[i].nbytes, static_cast<int>(i)));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<GgufTensorToWrite> tensors() const {
    std::vector<GgufTensorToWrite> out;
    for (size_t i = 0; i < tensor_cases().size(); ++i) {
      const auto& c = tensor_cases()[i];
      out.push_back({c.name, c.dims, c.type, data_[i].data(), c.nbytes});
    }
    return out;
  }

  void expect_contents(const GgufFile& f, const std::vector<GgufKv>& kvs) const {
    ASSERT_EQ(f.kvs().size(), kvs.size());
    for (size_t i = 0; i < kvs.size(); ++i) {
      EXPECT_EQ(f.kvs()[i].key, kvs[i].key);
      EXPECT_TRUE(f.kvs()[i].value == kvs[i].value) << kvs[i].key;
    }
    ASSERT_EQ(f.tensors().size(), tensor_cases().size());
    for (size_t i = 0; i < tensor_cases().size(); ++i) {
      const auto& c = tensor_cases()[i];
      const GgufTensorInfo& t = f.tensors()[i];
      EXPECT_EQ(t.name, c.name);
      EXPECT_EQ(t.dims, c.dims) << c.name;
      EXPECT_EQ(t.type, c.type) << c.name;
      EXPECT_EQ(t.nbytes, c.nbytes) << c.name;
      EXPECT_EQ(t.offset % f.alignment(), 0u) << c.name;
      EXPECT_EQ(std::memcmp(t.data, data_[i].data(), c.nbytes), 0) << c.name;
      EXPECT_EQ(&f.tensor(c.name), &t);
    }
    EXPECT_EQ(f.data_offset() % f.alignment(), 0u);
  }

  fs::path dir_;
  std::vector<std::vector<uint8_t>> data_;
};

TEST_F(GgufTest, RoundTripsEveryValueTypeAndSeveralTensorTypes) {
  const auto kvs = every_value_type();
  const std::string bytes = encode(kvs, tensors());
  const GgufFile f = parse(bytes);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  expect_contents(f, kvs);
  // Rewriting what was read (raw bytes copied) reproduces the file exactly.
  std::vector<GgufTensorToWrite> again;
  for (const auto& t : f.tensors()) again.push_back({t.name, t.dims, t.type, t.data, t.nbytes});
  EXPECT_EQ(encode(f.kvs(), again), bytes);
}

TEST_F(GgufTest, WritesAtomicallyAndMapsTheFile) {
  const auto kvs = every_value_type();
  const std::string path = (dir_ / "m.gguf").string();
  write_gguf(path, kvs, tensors());
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
  GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.path(), path);
  expect_contents(f, kvs);
  const GgufFile moved = std::move(f);
  expect_contents(moved, kvs);  // views survive a move
}

TEST_F(GgufTest, HonoursGeneralAlignment) {
  auto kvs = every_value_type();
  kvs.push_back(kv("general.alignment", GgufValue::u32(64)));
  const std::string bytes = encode(kvs, tensors());  // the views point into these bytes (ASan caught a temporary)
  const GgufFile f = parse(bytes);
  EXPECT_EQ(f.alignment(), 64u);
  expect_contents(f, kvs);
  for (const auto& t : f.tensors()) EXPECT_EQ(t.offset % 64, 0u) << t.name;
}

TEST(GgmlTypes, BlockSizesAndBytes) {
  struct Expect {
    GgmlType type;
    uint64_t dim0, bytes;
  };
  const Expect cases[] = {
      {GgmlType::F32, 10, 40},   {GgmlType::F16, 10, 20},   {GgmlType::BF16, 10, 20},  {GgmlType::Q8_0, 64, 68},
      {GgmlType::Q4_0, 64, 36},  {GgmlType::Q4_1, 64, 40},  {GgmlType::Q5_0, 64, 44},  {GgmlType::Q5_1, 64, 48},
      {GgmlType::Q2_K, 256, 84}, {GgmlType::Q3_K, 256, 110}, {GgmlType::Q4_K, 256, 144}, {GgmlType::Q5_K, 256, 176},
      {GgmlType::Q6_K, 256, 210}, {GgmlType::Q8_K, 256, 292},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ggml_nbytes(c.type, {c.dim0}), c.bytes) << ggml_type_name(c.type);
    EXPECT_EQ(ggml_nbytes(c.type, {c.dim0, 3}), 3 * c.bytes) << ggml_type_name(c.type);
  }
  EXPECT_EQ(ggml_nbytes(GgmlType::Q8_0, {31}), std::nullopt);  // not a whole block
  EXPECT_EQ(ggml_nbytes(GgmlType::F32, {1ull << 40, 1ull << 40}), std::nullopt);  // overflow
  EXPECT_EQ(ggml_type_traits(4), nullptr);  // removed Q4_2
  EXPECT_EQ(ggml_type_traits(1000), nullptr);
  EXPECT_STREQ(ggml_type_name(GgmlType::Q4_K), "Q4_K");
  EXPECT_EQ(gguf_align(33, 32), 64u);
  EXPECT_EQ(gguf_align(64, 32), 64u);
}

TEST(GgufAccessors, TypedGettersNameKeyAndTypes) {
  const std::string bytes = encode(every_value_type(), {});
  const GgufFile f = parse(bytes, "acc.gguf");
  EXPECT_EQ(f.find("nope"), nullptr);
  EXPECT_EQ(f.find_tensor("nope"), nullptr);
  EXPECT_EQ(f.get_u32("t.u32"), 4000000000u);
  EXPECT_EQ(f.get_uint("t.u8"), 200u);
  EXPECT_EQ(f.get_uint("t.u64"), 1ull << 60);
  EXPECT_FLOAT_EQ(f.get_f32("t.f32"), 1.25f);
  EXPECT_DOUBLE_EQ(f.get_float("t.f64"), 3.141592653589793);
  EXPECT_DOUBLE_EQ(f.get_float("t.f32"), 1.25);
  EXPECT_TRUE(f.get_bool("t.bool"));
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_f32_array("t.f32_array"), (std::vector<float>{1.0f, 2.5f, -3.0f}));
  EXPECT_EQ(f.get_string_array("t.string_array"), (std::vector<std::string>{"<s>", "", "hello"}));
  EXPECT_TRUE(f.get_i32_array("t.empty_array").empty());
  EXPECT_EQ(error_of([&] { f.get_u32("t.string"); }), "acc.gguf: key 't.string': expected UINT32, got STRING");
  EXPECT_EQ(error_of([&] { f.get_u32("missing.key"); }), "acc.gguf: key 'missing.key': missing");
  EXPECT_THAT(error_of([&] { f.get_uint("t.i8"); }), HasSubstr("expected a value >= 0, got -100"));
  EXPECT_EQ(error_of([&] { f.get_f32_array("t.string_array"); }),
            "acc.gguf: key 't.string_array': expected ARRAY of FLOAT32, got ARRAY of STRING");
  EXPECT_EQ(error_of([&] { f.tensor("w"); }), "acc.gguf: no tensor 'w'");
}

TEST(GgufParse, AcceptsVersion2AndAFileWithoutTensors) {
  Bytes b;
  b.header(0, 1, 2).string_kv("general.architecture", "llama");
  const GgufFile f = parse(b.s);
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_NO_THROW(parse(one_tensor_file().s));
}

TEST(GgufParse, RejectsBrokenHeaders) {
  Bytes bad_magic = one_tensor_file();
  bad_magic.s.replace(0, 4, "GGML");
  EXPECT_EQ(parse_error(bad_magic.s), "hand.gguf: header: bad magic 'GGML' (expected 'GGUF'): not a GGUF file");
  EXPECT_THAT(parse_error(std::string("GGUF\x03\0\0\0\0\0", 10)), HasSubstr("hand.gguf: header: truncated: the file has 10 bytes"));
  EXPECT_THAT(parse_error(""), HasSubstr("header: truncated"));
  Bytes v1;
  v1.header(0, 0, 1).data(8);
  EXPECT_THAT(parse_error(v1.s), HasSubstr("version 1 is not supported"));
  Bytes swapped;
  swapped.header(0, 0, 0x03000000).data(8);
  EXPECT_THAT(parse_error(swapped.s), HasSubstr("big-endian GGUF is not supported"));
  Bytes v9;
  v9.header(0, 0, 9);
  EXPECT_THAT(parse_error(v9.s), HasSubstr("unsupported version 9"));
  Bytes many_kvs;
  many_kvs.header(0, 1ull << 40).string_kv("a", "b");
  EXPECT_THAT(parse_error(many_kvs.s), HasSubstr("header: kv_count 1099511627776 cannot fit"));
  Bytes many_tensors;
  many_tensors.header(1ull << 40, 0).data(30);
  EXPECT_THAT(parse_error(many_tensors.s), HasSubstr("header: tensor_count 1099511627776 cannot fit"));
}

TEST(GgufParse, RejectsBrokenMetadata) {
  Bytes past_end;
  past_end.header(0, 1).str("general.name").u32(8).u64(1000).data(10);
  EXPECT_EQ(parse_error(past_end.s),
            "hand.gguf: key 'general.name': string length 1000 runs past the end of the file (10 bytes left)");
  Bytes long_key;
  long_key.header(0, 1).u64(70000).data(70000);
  EXPECT_THAT(parse_error(long_key.s), HasSubstr("key #0: key length 70000 exceeds the limit of 65535 bytes"));
  Bytes key_past_end;
  key_past_end.header(0, 1).u64(500).data(20);
  EXPECT_THAT(parse_error(key_past_end.s), HasSubstr("key #0: key length 500 runs past the end"));
  Bytes unknown_type;
  unknown_type.header(0, 1).str("a.b").u32(13).u32(0);
  EXPECT_EQ(parse_error(unknown_type.s), "hand.gguf: key 'a.b': unknown value type 13");
  Bytes bad_bool;
  bad_bool.header(0, 1).str("a.b").u32(7).u8(2);
  EXPECT_EQ(parse_error(bad_bool.s), "hand.gguf: key 'a.b': BOOL value 2 is neither 0 nor 1");
  Bytes truncated_value;
  truncated_value.header(0, 1).str("a.b").u32(10).u32(7);
  EXPECT_THAT(parse_error(truncated_value.s), HasSubstr("key 'a.b': value truncated at byte"));
  Bytes huge_array;
  huge_array.header(0, 1).str("a.b").u32(9).u32(4).u64(1ull << 40).u32(1);
  EXPECT_THAT(parse_error(huge_array.s), HasSubstr("key 'a.b': array of 1099511627776 UINT32 values cannot fit"));
  Bytes bad_element_type;
  bad_element_type.header(0, 1).str("a.b").u32(9).u32(77).u64(1);
  EXPECT_THAT(parse_error(bad_element_type.s), HasSubstr("key 'a.b': unknown array element type 77"));
  Bytes deep;
  deep.header(0, 1).str("a.b").u32(9);
  for (int i = 0; i < GgufFile::kMaxArrayDepth + 1; ++i) deep.u32(9).u64(1);
  deep.u32(4).u64(0);
  EXPECT_THAT(parse_error(deep.s), HasSubstr("key 'a.b': arrays nested deeper than 8"));
  Bytes duplicate;
  duplicate.header(0, 2).string_kv("a.b", "x").string_kv("a.b", "y");
  EXPECT_EQ(parse_error(duplicate.s), "hand.gguf: key 'a.b': duplicate key");
  Bytes alignment_type;
  alignment_type.header(0, 1).str("general.alignment").u32(10).u64(32);
  EXPECT_EQ(parse_error(alignment_type.s), "hand.gguf: key 'general.alignment': expected UINT32, got UINT64");
  Bytes alignment_value;
  alignment_value.header(0, 1).str("general.alignment").u32(4).u32(48);
  EXPECT_EQ(parse_error(alignment_value.s), "hand.gguf: key 'general.alignment': 48 is not a power of two");
}

TEST(GgufParse, RejectsBrokenTensorInfos) {
  EXPECT_EQ(parse_error(one_tensor_file(/*type=*/4).s), "hand.gguf: tensor 't': unknown ggml type 4");
  EXPECT_EQ(parse_error(one_tensor_file(/*type=*/1234).s), "hand.gguf: tensor 't': unknown ggml type 1234");
  EXPECT_EQ(parse_error(one_tensor_file(/*type=*/0, /*dim=*/4, /*offset=*/4).s),
            "hand.gguf: tensor 't': offset 4 is not a multiple of the alignment 32");
  EXPECT_EQ(parse_error(one_tensor_file(0, 4, /*offset=*/64).s),
            "hand.gguf: tensor 't': data [64, 80) is not within the file (the data section holds 16 bytes)");
  EXPECT_EQ(parse_error(one_tensor_file(0, 4, 0, /*data_bytes=*/12).s),
            "hand.gguf: tensor 't': data [0, 16) is not within the file (the data section holds 12 bytes)");
  EXPECT_EQ(parse_error(one_tensor_file(/*Q8_0*/ 8, /*dim=*/31).s),
            "hand.gguf: tensor 't': dims[0] = 31 is not a multiple of Q8_0's block size 32");
  Bytes dims5;
  dims5.header(1, 0).tensor("t", {1, 1, 1, 1, 1}, 0, 0).pad().data(4);
  EXPECT_EQ(parse_error(dims5.s), "hand.gguf: tensor 't': n_dims 5 exceeds 4");
  Bytes long_name;
  long_name.header(1, 0).tensor(std::string(64, 'x'), {1}, 0, 0).pad().data(4);
  EXPECT_THAT(parse_error(long_name.s), HasSubstr("tensor #0: tensor name length 64 exceeds the limit of 63 bytes"));
  Bytes duplicate;
  duplicate.header(2, 0).tensor("t", {1}, 0, 0).tensor("t", {1}, 0, 32).pad().data(64);
  EXPECT_EQ(parse_error(duplicate.s), "hand.gguf: tensor 't': duplicate tensor name");
  Bytes no_data;
  no_data.header(1, 0).tensor("t", {1}, 0, 0);
  EXPECT_THAT(parse_error(no_data.s), HasSubstr("header: data section would start at byte"));
}

TEST_F(GgufTest, EveryTruncationAndByteFlipFailsCleanly) {
  const std::string bytes = encode(every_value_type(), tensors());
  const GgufFile whole = parse(bytes);
  const auto& last = whole.tensors().back();
  const size_t end_of_data = whole.data_offset() + last.offset + last.nbytes;
  for (size_t cut = 0; cut < end_of_data; ++cut) {
    const std::string msg = parse_error(bytes.substr(0, cut));
    ASSERT_THAT(msg, HasSubstr("hand.gguf: ")) << "cut at " << cut;
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string flipped = bytes;
    const size_t at = rng() % whole.data_offset();  // the header and metadata, where parsing happens
    flipped[at] = static_cast<char>(rng());
    try {
      parse(flipped);
    } catch (const FormatError&) {
    }  // anything else (a crash, bad_alloc, out_of_range) fails the test
  }
}

TEST_F(GgufTest, WriterRejectsInconsistentInput) {
  auto t = tensors();
  EXPECT_THAT(invalid_argument_of([&] {
                encode({kv("a.b", GgufValue::u32(1)), kv("a.b", GgufValue::u32(2))}, {});
              }),
              HasSubstr("key 'a.b': duplicate key"));
  EXPECT_THAT(invalid_argument_of([&] {
                encode({kv("a.b", GgufValue::array(GgufType::UINT32, {GgufValue::u32(1), GgufValue::string("x")}))}, {});
              }),
              HasSubstr("key 'a.b': array element 1 is STRING, the array holds UINT32"));
  EXPECT_THAT(invalid_argument_of([&] { encode({kv("general.alignment", GgufValue::u32(24))}, {}); }),
              HasSubstr("24 is not a power of two"));
  auto wrong_size = t;
  wrong_size[0].nbytes -= 4;
  EXPECT_THAT(invalid_argument_of([&] { encode({}, wrong_size); }), HasSubstr("tensor 'f32': 20 bytes given, F32"));
  auto duplicate = t;
  duplicate[1].name = "f32";
  EXPECT_THAT(invalid_argument_of([&] { encode({}, duplicate); }), HasSubstr("tensor 'f32': duplicate tensor name"));
  auto long_name = t;
  long_name[0].name = std::string(64, 'n');
  EXPECT_THAT(invalid_argument_of([&] { encode({}, long_name); }), HasSubstr("name longer than 63 bytes"));
  auto five_dims = t;
  five_dims[0].dims = {3, 2, 1, 1, 1};
  EXPECT_THAT(invalid_argument_of([&] { encode({}, five_dims); }), HasSubstr("5 dims exceed 4"));
  // Raw bytes that belong to another key are a caller bug, not something to copy.
  const std::string bytes = encode({kv("a.b", GgufValue::u32(1))}, {});
  const GgufFile f = parse(bytes);
  GgufKv renamed = f.kvs()[0];
  renamed.key = "a.c";
  EXPECT_THAT(invalid_argument_of([&] { encode({renamed}, {}); }), HasSubstr("raw bytes belong to another key"));
}

}  // namespace
}  // namespace longrope::formats
