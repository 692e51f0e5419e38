// Tests for the safetensors reader/writer, sharded checkpoints and rejection of corrupt files.
#include "formats/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "formats/atomic_file.h"
#include "formats/format_error.h"
#include "tests/test_files.h"

namespace longrope::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
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

std::vector<uint8_t> pattern(size_t n, int seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 37 + seed * 11 + 5);
  return v;
}

// A handcrafted file: u64 LE header length, header text, data bytes.
std::vector<uint8_t> make_file(const std::string& header, size_t data_bytes, uint64_t header_len_override = 0) {
  uint64_t len = header_len_override != 0 ? header_len_override : header.size();
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>(len >> (8 * i));
  out += header;
  out.append(data_bytes, '\xAB');
  return std::vector<uint8_t>(out.begin(), out.end());
}

std::string parse_error(const std::string& header, size_t data_bytes) {
  auto bytes = make_file(header, data_bytes);
  return error_of([&] { SafetensorsFile::parse(bytes.data(), bytes.size(), "hand.safetensors"); });
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir("safetensors");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  void write_raw(const std::string& name, const std::vector<uint8_t>& bytes) const {
    write_file_atomically(path(name), std::string(bytes.begin(), bytes.end()));
  }

  fs::path dir_;
};

void expect_same(const TensorView& view, const TensorToWrite& t, const std::vector<uint8_t>& bytes) {
  EXPECT_EQ(view.name, t.name);
  EXPECT_EQ(view.dtype, t.dtype) << t.name;
  EXPECT_EQ(view.shape, t.shape) << t.name;
  ASSERT_EQ(view.nbytes, bytes.size()) << t.name;
  EXPECT_EQ(std::memcmp(view.data, bytes.data(), bytes.size()), 0) << t.name;
}

TEST_F(SafetensorsTest, RoundTripsEveryDTypeByteForByte) {
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<TensorToWrite> tensors;
  const auto& dtypes = all_dtypes();
  payloads.reserve(dtypes.size());
  for (size_t i = 0; i < dtypes.size(); ++i) {
    payloads.push_back(pattern(2 * 3 * dtype_size(dtypes[i]), static_cast<int>(i)));
    tensors.push_back({std::string("t.") + safetensors_name(dtypes[i]),
                       dtypes[i],
                       {2, 3},
                       payloads.back().data(),
                       payloads.back().size()});
  }
  const std::vector<uint8_t> scalar = pattern(4, 99);
  tensors.push_back({"scalar", DType::F32, {}, scalar.data(), 4});
  tensors.push_back({"empty", DType::BF16, {0, 7}, nullptr, 0});
  write_safetensors(path("all.safetensors"), tensors);

  SafetensorsFile file = SafetensorsFile::open(path("all.safetensors"));
  EXPECT_EQ(file.names().size(), tensors.size());
  EXPECT_TRUE(file.metadata().empty());
  for (size_t i = 0; i < dtypes.size(); ++i) {
    expect_same(file.get(tensors[i].name), tensors[i], payloads[i]);
    EXPECT_EQ(file.get(tensors[i].name).numel(), 6);
  }
  expect_same(file.get("scalar"), tensors[dtypes.size()], scalar);
  EXPECT_EQ(file.get("scalar").numel(), 1);
  EXPECT_EQ(file.get("empty").numel(), 0);
  EXPECT_EQ(file.get("empty").nbytes, 0u);
}

TEST_F(SafetensorsTest, LayoutHasPaddedHeaderAndTensorsInGivenOrder) {
  const std::vector<uint8_t> a = pattern(12, 1), b = pattern(2, 2);
  write_safetensors(path("l.safetensors"),
                    {{"z_first", DType::F32, {3}, a.data(), 12}, {"a_second", DType::U8, {2}, b.data(), 2}});
  MappedFile raw = MappedFile::open(path("l.safetensors"));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | raw.data()[i];
  EXPECT_EQ(n % 8, 0u);
  ASSERT_EQ(raw.size(), 8 + n + 14);
  EXPECT_EQ(raw.data()[8], '{');
  EXPECT_EQ(std::memcmp(raw.data() + 8 + n, a.data(), 12), 0);
  EXPECT_EQ(std::memcmp(raw.data() + 8 + n + 12, b.data(), 2), 0);
  SafetensorsFile file = SafetensorsFile::open(path("l.safetensors"));
  EXPECT_THAT(file.names(), ElementsAre("a_second", "z_first"));
}

TEST_F(SafetensorsTest, RoundTripsMetadata) {
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "ünïcode \"quoted\""}, {"empty", ""}};
  const std::vector<uint8_t> w = pattern(8, 3);
  write_safetensors(path("m.safetensors"), {{"w", DType::I64, {1}, w.data(), 8}}, metadata);
  SafetensorsFile file = SafetensorsFile::open(path("m.safetensors"));
  EXPECT_EQ(file.metadata(), metadata);
  EXPECT_EQ(file.path(), path("m.safetensors"));
  EXPECT_TRUE(file.contains("w"));
  EXPECT_FALSE(file.contains("__metadata__"));
}

TEST_F(SafetensorsTest, CheckpointOpensFileOrDirectory) {
  fs::create_directories(dir_ / "model");
  const std::vector<uint8_t> w = pattern(4, 4);
  write_safetensors(path("model/model.safetensors"), {{"w", DType::F16, {2}, w.data(), 4}});
  for (const std::string& p : {path("model"), path("model/model.safetensors")}) {
    SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open(p);
    EXPECT_THAT(ckpt.names(), ElementsAre("w"));
    EXPECT_EQ(ckpt.path(), path("model/model.safetensors"));
    EXPECT_EQ(std::memcmp(ckpt.get("w").data, w.data(), 4), 0);
  }
}

TEST_F(SafetensorsTest, ShardedWriteAndRead) {
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<TensorToWrite> tensors;
  payloads.reserve(7);
  for (int i = 0; i < 7; ++i) {
    payloads.push_back(pattern(400, i));
    tensors.push_back({"layer." + std::to_string(i) + ".weight", DType::F32, {10, 10}, payloads.back().data(), 400});
  }
  const std::string out = path("sharded");
  write_sharded_safetensors(out, tensors, 1000, {{"format", "pt"}});

  for (int k = 1; k <= 4; ++k) {
    EXPECT_TRUE(fs::exists(fs::path(out) / ("model-0000" + std::to_string(k) + "-of-00004.safetensors")));
  }
  std::ifstream index_in(fs::path(out) / "model.safetensors.index.json");
  nlohmann::json index = nlohmann::json::parse(index_in);
  EXPECT_EQ(index["metadata"]["total_size"], 2800);
  EXPECT_EQ(index["weight_map"]["layer.0.weight"], "model-00001-of-00004.safetensors");
  EXPECT_EQ(index["weight_map"]["layer.6.weight"], "model-00004-of-00004.safetensors");

  SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open(out);
  EXPECT_EQ(ckpt.files().size(), 4u);
  EXPECT_EQ(ckpt.names().size(), 7u);
  for (size_t i = 0; i < tensors.size(); ++i) expect_same(ckpt.get(tensors[i].name), tensors[i], payloads[i]);
  EXPECT_EQ(ckpt.files()[0].metadata().at("format"), "pt");

  SafetensorsCheckpoint moved = std::move(ckpt);  // views must survive a move
  expect_same(moved.get("layer.3.weight"), tensors[3], payloads[3]);
  EXPECT_THAT(error_of([&] { moved.get("nope"); }),
              AllOf(HasSubstr("model.safetensors.index.json"), HasSubstr("no tensor 'nope'")));
}

TEST_F(SafetensorsTest, ShardingGivesOversizedTensorItsOwnShard) {
  const std::vector<uint8_t> big = pattern(64, 1), small = pattern(4, 2);
  write_sharded_safetensors(path("s"),
                            {{"small1", DType::U8, {4}, small.data(), 4},
                             {"big", DType::U8, {64}, big.data(), 64},
                             {"small2", DType::U8, {4}, small.data(), 4}},
                            16);
  SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open(path("s"));
  EXPECT_EQ(ckpt.files().size(), 3u);
  EXPECT_EQ(ckpt.get("big").nbytes, 64u);
}

TEST_F(SafetensorsTest, WriterRejectsInconsistentInput) {
  const std::vector<uint8_t> w = pattern(8, 0);
  EXPECT_THROW(write_safetensors(path("x"), {{"w", DType::F32, {3}, w.data(), 8}}), std::invalid_argument);
  EXPECT_THROW(write_safetensors(path("x"), {{"w", DType::U8, {8}, w.data(), 8}, {"w", DType::U8, {8}, w.data(), 8}}),
               std::invalid_argument);
  EXPECT_THROW(write_safetensors(path("x"), {{"__metadata__", DType::U8, {8}, w.data(), 8}}), std::invalid_argument);
  EXPECT_THROW(write_safetensors(path("x"), {{"w", DType::U8, {-8}, w.data(), 8}}), std::invalid_argument);
  EXPECT_FALSE(fs::exists(path("x")));
}

// --- rejection of corrupt input -------------------------------------------------------------

TEST(SafetensorsCorruptTest, ShortFile) {
  const uint8_t bytes[5] = {1, 2, 3, 4, 5};
  EXPECT_THAT(error_of([&] { SafetensorsFile::parse(bytes, 5, "short.safetensors"); }),
              AllOf(HasSubstr("short.safetensors"), HasSubstr("5 bytes"), HasSubstr("too short")));
  EXPECT_THAT(error_of([&] { SafetensorsFile::parse(nullptr, 0, "empty.safetensors"); }),
              HasSubstr("empty.safetensors"));
}

TEST(SafetensorsCorruptTest, HeaderLengthPastEnd) {
  auto bytes = make_file("{}", 0, 1000);
  EXPECT_THAT(error_of([&] { SafetensorsFile::parse(bytes.data(), bytes.size(), "f.safetensors"); }),
              AllOf(HasSubstr("f.safetensors"), HasSubstr("header length 1000 past end of file (10 bytes)")));
  auto huge = make_file("{}", 0, ~0ull);
  EXPECT_THAT(error_of([&] { SafetensorsFile::parse(huge.data(), huge.size(), "f.safetensors"); }),
              HasSubstr("exceeds the 104857600-byte limit"));
}

// Found by fuzz_safetensors: a number out of double's range escaped as nlohmann's out_of_range.
TEST(SafetensorsCorruptTest, NumberOverflowIsAFormatError) {
  EXPECT_THAT(parse_error("99.9000E0400", 0), HasSubstr("hand.safetensors: header: invalid JSON"));
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "U8", "shape": [1e999], "data_offsets": [0, 1]}})", 1),
              HasSubstr("hand.safetensors: header: invalid JSON"));
}

TEST(SafetensorsCorruptTest, BadJsonOrNotObject) {
  EXPECT_THAT(parse_error("{\"w\": {not json", 0),
              AllOf(HasSubstr("hand.safetensors"), HasSubstr("header: invalid JSON")));
  EXPECT_THAT(parse_error("[1, 2]", 0), HasSubstr("hand.safetensors: header: not a JSON object"));
  EXPECT_THAT(parse_error(R"({"w": 3})", 0), HasSubstr("tensor 'w': entry is not a JSON object"));
  EXPECT_THAT(parse_error(R"({"a": {}, "a": {}})", 0), HasSubstr("duplicate key 'a'"));
}

TEST(SafetensorsCorruptTest, OffsetsPastEnd) {
  EXPECT_EQ(parse_error(R"({"model.norm.weight": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8),
            "hand.safetensors: tensor 'model.norm.weight': data_offsets [0, 16] past end of data (8 bytes)");
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", 8),
              HasSubstr("tensor 'w': data_offsets [8, 4] begin > end"));
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}})", 8),
              HasSubstr("tensor 'w': data_offsets has 3 elements"));
}

TEST(SafetensorsCorruptTest, ShapeDTypeSizeMismatch) {
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}})", 16),
              AllOf(HasSubstr("tensor 'w'"), HasSubstr("hold 16 bytes but F32 shape [3] needs 12")));
  EXPECT_THAT(
      parse_error(R"({"w": {"dtype": "BF16", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 16]}})", 16),
      AllOf(HasSubstr("tensor 'w'"), HasSubstr("overflows")));
}

TEST(SafetensorsCorruptTest, UnknownDTypeAndBadFields) {
  EXPECT_EQ(parse_error(R"({"w": {"dtype": "F8", "shape": [1], "data_offsets": [0, 1]}})", 1),
            "hand.safetensors: tensor 'w': unknown dtype 'F8'");
  EXPECT_THAT(parse_error(R"({"w": {"shape": [1], "data_offsets": [0, 1]}})", 1),
              HasSubstr("tensor 'w': missing 'dtype'"));
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "U8", "data_offsets": [0, 1]}})", 1),
              HasSubstr("tensor 'w': missing 'shape'"));
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "U8", "shape": [1]}})", 1),
              HasSubstr("tensor 'w': missing 'data_offsets'"));
  EXPECT_THAT(parse_error(R"({"w": {"dtype": 7, "shape": [1], "data_offsets": [0, 1]}})", 1),
              HasSubstr("'dtype' is not a string"));
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "U8", "shape": 1, "data_offsets": [0, 1]}})", 1),
              HasSubstr("'shape' is not a JSON array"));
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]}})", 1),
              HasSubstr("tensor 'w': shape[0] is negative (-1)"));
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "U8", "shape": [1.5], "data_offsets": [0, 1]}})", 1),
              HasSubstr("tensor 'w': shape[0] is not an integer"));
  EXPECT_THAT(parse_error(R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, -1]}})", 1),
              HasSubstr("tensor 'w': data_offsets[1] is negative"));
}

// Tensors must tile the data section, as safetensors itself requires: overlapping tensors would read
// each other's bytes (a wrong perplexity, exit 0), and a gap or a tail means a damaged file.
TEST(SafetensorsCorruptTest, TensorsMustTileTheData) {
  EXPECT_EQ(parse_error(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                            "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 4),
            "hand.safetensors: tensor 'b': data_offsets start at 0, inside the bytes before it (up to 4) "
            "(tensors must tile the data section)");
  EXPECT_THAT(parse_error(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                              "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8),
              HasSubstr("tensor 'b': data_offsets start at 4, inside the bytes before it (up to 8)"));
  EXPECT_THAT(parse_error(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8),
              HasSubstr("tensor 'a': data_offsets start at 4, leaving a gap after 0"));
  EXPECT_EQ(parse_error(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8),
            "hand.safetensors: data section holds 8 bytes, the tensors 4 (tensors must tile the data section)");
  // Empty tensors take no bytes and may sit anywhere on the tiling.
  auto bytes = make_file(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                             "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})", 4);
  EXPECT_NO_THROW(SafetensorsFile::parse(bytes.data(), bytes.size(), "hand"));
}

TEST(SafetensorsCorruptTest, MetadataValuesMustBeStrings) {
  EXPECT_THAT(parse_error(R"({"__metadata__": {"format": "pt", "step": 3}})", 0),
              HasSubstr("hand.safetensors: __metadata__: value of 'step' is not a string"));
  EXPECT_THAT(parse_error(R"({"__metadata__": ["pt"]})", 0), HasSubstr("__metadata__ is not a JSON object"));
}

TEST(SafetensorsCorruptTest, HandcraftedValidFileParses) {
  auto bytes = make_file(R"({"__metadata__": {"k": "v"}, "b": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]},
                             "a": {"dtype": "I16", "shape": [], "data_offsets": [0, 2]}}   )",
                         4);
  SafetensorsFile file = SafetensorsFile::parse(bytes.data(), bytes.size(), "hand");
  EXPECT_THAT(file.names(), ElementsAre("a", "b"));
  EXPECT_EQ(file.metadata().at("k"), "v");
  const uint8_t* data_start = bytes.data() + bytes.size() - 4;
  EXPECT_EQ(file.get("a").data, data_start);
  EXPECT_EQ(file.get("b").data, data_start + 2);
  EXPECT_THAT(error_of([&] { file.get("c"); }), HasSubstr("hand: no tensor 'c'"));
}

TEST_F(SafetensorsTest, OpenNamesThePathInErrors) {
  write_raw("bad.safetensors", make_file(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 4));
  EXPECT_THAT(error_of([&] { SafetensorsFile::open(path("bad.safetensors")); }),
              AllOf(HasSubstr(path("bad.safetensors")), HasSubstr("tensor 'w'"), HasSubstr("past end of data")));
  EXPECT_THAT(error_of([&] { SafetensorsCheckpoint::open(path("missing.safetensors")); }),
              HasSubstr(path("missing.safetensors") + ": cannot open"));
  write_file_atomically(path("empty.safetensors"), "");
  EXPECT_THAT(error_of([&] { SafetensorsFile::open(path("empty.safetensors")); }), HasSubstr("too short"));
}

TEST_F(SafetensorsTest, DirectoryWithoutModelFiles) {
  EXPECT_EQ(error_of([&] { SafetensorsCheckpoint::open(dir_.string()); }),
            dir_.string() + ": no model.safetensors or model.safetensors.index.json");
}

TEST_F(SafetensorsTest, IndexNamingMissingShard) {
  write_file_atomically(path("model.safetensors.index.json"),
                        R"({"weight_map": {"a": "model-00001-of-00002.safetensors"}})");
  EXPECT_THAT(error_of([&] { SafetensorsCheckpoint::open(dir_.string()); }),
              AllOf(HasSubstr(path("model.safetensors.index.json")), HasSubstr("tensor 'a'"),
                    HasSubstr("model-00001-of-00002.safetensors"), HasSubstr("cannot open")));
}

TEST_F(SafetensorsTest, IndexNamingTensorMissingFromShard) {
  const std::vector<uint8_t> w = pattern(4, 0);
  write_safetensors(path("shard.safetensors"), {{"a", DType::U8, {4}, w.data(), 4}});
  write_file_atomically(
      path("model.safetensors.index.json"),
      R"({"metadata": {"total_size": 8}, "weight_map": {"a": "shard.safetensors", "b": "shard.safetensors"}})");
  EXPECT_THAT(error_of([&] { SafetensorsCheckpoint::open(dir_.string()); }),
              AllOf(HasSubstr(path("model.safetensors.index.json")), HasSubstr("tensor 'b' not found in shard")));
}

TEST_F(SafetensorsTest, IndexMalformed) {
  const std::string index = path("model.safetensors.index.json");
  write_file_atomically(index, R"({"metadata": {}})");
  EXPECT_THAT(error_of([&] { SafetensorsCheckpoint::open(index); }), HasSubstr(index + ": missing 'weight_map'"));
  write_file_atomically(index, R"({"weight_map": {"a": 1}})");
  EXPECT_THAT(error_of([&] { SafetensorsCheckpoint::open(index); }),
              HasSubstr("tensor 'a': shard name is not a string"));
  write_file_atomically(index, R"({"weight_map": {"a": "../outside.safetensors"}})");
  EXPECT_THAT(error_of([&] { SafetensorsCheckpoint::open(index); }), HasSubstr("outside the checkpoint directory"));
  write_file_atomically(index, "{oops");
  EXPECT_THAT(error_of([&] { SafetensorsCheckpoint::open(index); }), HasSubstr(index + ": invalid JSON"));
}

}  // namespace
}  // namespace longrope::formats
