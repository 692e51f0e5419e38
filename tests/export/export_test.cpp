// Exporters: the config.json LongRoPE block in each layout, the GGUF rewrite (every original byte
// kept, factors and keys added), and the n̂ and shape checks that refuse a wrong export.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "formats/file_write.h"
#include "formats/format_error.h"
#include "formats/gguf.h"
#include "export/export_values.h"
#include "export/gguf_export.h"
#include "export/hf_export.h"
#include "rope/rope_scaling.h"
#include "util/errors.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using formats::GgmlType;
using formats::GgufFile;
using formats::GgufKv;
using formats::GgufValue;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ojson = nlohmann::ordered_json;

template <typename E, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no error>";
}

// A searched-style table for head_dim 16 (8 factors), L = 256 → L' = 2048.
FactorTable table_8x() {
  FactorTable t;
  t.model = "tiny";
  t.rope_base = 10000;
  t.rotary_dim = 16;
  t.original_length = 256;
  t.target_length = 2048;
  t.scale = 8;
  t.lambda = {1.0, 1.02, 1.3, 2.0, 3.5, 6.0, 8.5, 10.0};
  return t;
}

double su(double s, double L) { return std::sqrt(1 + std::log(s) / std::log(L)); }

ojson llama_config() {
  return ojson::parse(R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 256,
    "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "max_position_embeddings": 256, "rope_theta": 10000.0, "rope_scaling": null,
    "tie_word_embeddings": true})");
}

std::vector<std::string> keys_of(const ojson& j) {
  std::vector<std::string> out;
  for (const auto& [k, v] : j.items()) out.push_back(k);
  return out;
}

void expect_block(const ojson& block, const std::vector<double>& long_factor, const std::vector<double>& short_factor,
                  double attention_factor) {
  EXPECT_EQ(block["rope_type"], "longrope");
  EXPECT_EQ(block["long_factor"].get<std::vector<double>>(), long_factor);
  EXPECT_EQ(block["short_factor"].get<std::vector<double>>(), short_factor);
  EXPECT_EQ(block["original_max_position_embeddings"], 256);
  EXPECT_EQ(block["factor"], 8.0);
  EXPECT_DOUBLE_EQ(block["attention_factor"].get<double>(), attention_factor);
}

// ---- config.json -----------------------------------------------------------------------------

TEST(HfExport, BothLayoutsCarryTheSameBlock) {
  const FactorTable t = table_8x();
  const HfExport e = patch_hf_config(llama_config(), t, {}, "config.json", "table.json");
  const ojson& c = e.config;
  EXPECT_EQ(c["max_position_embeddings"], 2048);
  EXPECT_EQ(c["rope_theta"], 10000.0);
  const std::vector<double> ones(8, 1.0);
  EXPECT_THAT(keys_of(c["rope_scaling"]), ElementsAre("rope_type", "long_factor", "short_factor",
                                                      "original_max_position_embeddings", "factor", "attention_factor"));
  expect_block(c["rope_scaling"], t.lambda, ones, su(8, 256));
  EXPECT_THAT(keys_of(c["rope_parameters"]),
              ElementsAre("rope_type", "long_factor", "short_factor", "original_max_position_embeddings", "factor",
                          "attention_factor", "rope_theta"));
  expect_block(c["rope_parameters"], t.lambda, ones, su(8, 256));
  EXPECT_EQ(c["rope_parameters"]["rope_theta"], 10000.0);
  EXPECT_EQ(c["original_max_position_embeddings"], 256);  // at the top level always: transformers 4.x reads it only there
  EXPECT_FALSE(c.contains("partial_rotary_factor"));
  EXPECT_TRUE(e.values.warnings.empty());
  // The user's key order survives; new keys go at the end.
  EXPECT_THAT(keys_of(c), ElementsAre("architectures", "model_type", "vocab_size", "hidden_size", "intermediate_size",
                                      "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                                      "max_position_embeddings", "rope_theta", "rope_scaling", "tie_word_embeddings",
                                      "original_max_position_embeddings", "rope_parameters"));
}

// A scaling the config already carries is replaced, never silently: the warning names it.
TEST(HfExport, AScalingTheConfigCarriesIsNamedAsReplaced) {
  ojson config = llama_config();
  config["rope_scaling"] = ojson::parse(R"({"rope_type": "linear", "factor": 2.0})");
  const HfExport e = patch_hf_config(config, table_8x(), {}, "config.json", "table.json");
  ASSERT_EQ(e.values.warnings.size(), 1u);
  EXPECT_EQ(e.values.warnings[0], "warning: config.json: its rope_scaling (rope_type linear, factor 2) is replaced by the table's "
                                  "longrope scaling, whose factors divide the model's native frequencies, not the scaled ones");
  EXPECT_EQ(e.config["rope_scaling"]["rope_type"], "longrope");
}

TEST(HfExport, SingleLayoutsRemoveTheOtherBlock) {
  ojson config = llama_config();
  config["rope_parameters"] = ojson::parse(R"({"rope_type": "default", "rope_theta": 10000.0})");
  HfExportOptions o;
  o.layout = parse_hf_layout("rope_scaling");
  ojson c = patch_hf_config(config, table_8x(), o, "config.json", "t").config;
  EXPECT_FALSE(c.contains("rope_parameters"));
  EXPECT_FALSE(c["rope_scaling"].contains("rope_theta"));
  EXPECT_EQ(c["rope_theta"], 10000.0);

  o.layout = parse_hf_layout("rope_parameters");
  c = patch_hf_config(config, table_8x(), o, "config.json", "t").config;
  EXPECT_FALSE(c.contains("rope_scaling"));
  EXPECT_EQ(c["rope_parameters"]["rope_theta"], 10000.0);
  EXPECT_EQ(c["rope_parameters"]["long_factor"].size(), 8u);
  EXPECT_THROW(parse_hf_layout("v5"), std::invalid_argument);
  config["rope_parameters"] = ojson::parse(R"({"full_attention": {"rope_type": "default"}, "sliding_attention": {}})");
  EXPECT_THAT(error_of<std::runtime_error>([&] { patch_hf_config(config, table_8x(), {}, "config.json", "t"); }),
              HasSubstr("config.json: rope_parameters.full_attention: RoPE parameters per layer type are not supported"));
}

TEST(HfExport, ShortTableAttentionFactorAndPhi3TopLevelLength) {
  FactorTable t = table_8x();
  t.short_lambda = {1, 1, 1, 1.1, 1.2, 1.3, 1.4, 1.5};
  t.attention_factor = 1.5;  // not vLLM's default: carried as short/long_mscale too
  ojson config = llama_config();
  config["original_max_position_embeddings"] = 4096;  // Phi-3 style; wins in transformers and vLLM
  const HfExport e = patch_hf_config(config, t, {}, "config.json", "t");
  expect_block(e.config["rope_scaling"], t.lambda, t.short_lambda, 1.5);
  EXPECT_EQ(e.config["rope_scaling"]["short_mscale"], 1.5);
  EXPECT_EQ(e.config["rope_scaling"]["long_mscale"], 1.5);
  EXPECT_EQ(e.config["original_max_position_embeddings"], 256);
  ASSERT_EQ(e.values.warnings.size(), 2u);
  EXPECT_THAT(e.values.warnings[0], HasSubstr("the model file says 4096"));
  EXPECT_THAT(e.values.warnings[1], HasSubstr("short_mscale/long_mscale"));
}

TEST(HfExport, FactorCountMustMatchRotaryDim) {
  FactorTable t = table_8x();
  t.rotary_dim = 0;
  t.lambda.resize(6);
  EXPECT_EQ(error_of<std::runtime_error>([&] { patch_hf_config(llama_config(), t, {}, "config.json", "table.json"); }),
            "config.json: hidden_size / num_attention_heads: rotary dim 16 (hidden_size / num_attention_heads 16 × "
            "partial_rotary_factor 1) needs 8 factors, the table table.json has 6");
  ojson partial = llama_config();
  partial["head_dim"] = 32;
  partial["partial_rotary_factor"] = 0.5;  // rotary dim 16: the 8-factor table fits
  const ojson c = patch_hf_config(partial, table_8x(), {}, "config.json", "t").config;
  EXPECT_EQ(c["rope_parameters"]["partial_rotary_factor"], 0.5);
  EXPECT_EQ(c["partial_rotary_factor"], 0.5);
  partial["partial_rotary_factor"] = 0.75;
  EXPECT_THAT(error_of<std::runtime_error>([&] { patch_hf_config(partial, table_8x(), {}, "config.json", "t"); }),
              HasSubstr("config.json: partial_rotary_factor: rotary dim 24"));
  ojson no_heads = llama_config();
  no_heads.erase("num_attention_heads");
  EXPECT_THAT(error_of<std::runtime_error>([&] { patch_hf_config(no_heads, table_8x(), {}, "config.json", "t"); }),
              HasSubstr("config.json: head_dim: missing"));
  ojson other_base = llama_config();
  other_base["rope_theta"] = 500000.0;
  EXPECT_THAT(error_of<std::runtime_error>([&] { patch_hf_config(other_base, table_8x(), {}, "config.json", "t"); }),
              HasSubstr("config.json: rope_theta: 500000 but the table was searched with rope base 10000"));
}

TEST(HfExport, StartTokensRefusedUnlessDropped) {
  FactorTable t = table_8x();
  t.start_tokens = 4;
  EXPECT_THAT(error_of<std::runtime_error>([&] { patch_hf_config(llama_config(), t, {}, "config.json", "table.json"); }),
              HasSubstr("table.json: start_tokens: n̂ = 4 cannot be exported"));
  HfExportOptions o;
  o.request.drop_start_tokens = true;
  const HfExport e = patch_hf_config(llama_config(), t, o, "config.json", "table.json");
  ASSERT_EQ(e.values.warnings.size(), 1u);
  EXPECT_THAT(e.values.warnings[0], HasSubstr("WARNING: dropping n̂ = 4"));
  EXPECT_EQ(e.config["rope_scaling"]["long_factor"].size(), 8u);
}

TEST(HfExport, CsvTableTakesLengthsFromRequestAndConfig) {
  FactorTable csv;  // what read_factor_table gives for result_final.csv: λ only
  csv.lambda = table_8x().lambda;
  EXPECT_THAT(error_of<InvalidSetting>([&] { patch_hf_config(llama_config(), csv, {}, "config.json", "r.csv"); }),
              HasSubstr("target_length: r.csv: unknown"));
  HfExportOptions o;
  o.request.target_length = 1024;
  const HfExport e = patch_hf_config(llama_config(), csv, o, "config.json", "r.csv");
  EXPECT_EQ(e.config["max_position_embeddings"], 1024);
  EXPECT_EQ(e.config["rope_scaling"]["original_max_position_embeddings"], 256);  // from the config
  EXPECT_EQ(e.config["rope_scaling"]["factor"], 4.0);
  EXPECT_DOUBLE_EQ(e.config["rope_scaling"]["attention_factor"].get<double>(), su(4, 256));
  o.request.original_length = 512;
  o.request.target_length = 256;
  EXPECT_THAT(error_of<std::runtime_error>([&] { patch_hf_config(llama_config(), csv, o, "config.json", "r.csv"); }),
              HasSubstr("r.csv: target_length: 256 is not beyond the original length 512"));
  FactorTable with_l = table_8x();
  o.request = {};
  o.request.original_length = 512;
  EXPECT_THAT(error_of<std::runtime_error>([&] { patch_hf_config(llama_config(), with_l, o, "config.json", "t"); }),
              HasSubstr("t: original_length: the table says 256, the request 512"));
}

class ExportFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("longrope_export_test_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // No output and no temp file beside it.
  void expect_nothing_at(const std::string& p) const {
    EXPECT_FALSE(fs::exists(p)) << p;
    for (const auto& e : fs::directory_iterator(dir_))
      EXPECT_EQ(e.path().string().find(p + ".tmp"), std::string::npos) << e.path();
  }

  fs::path dir_;
};

TEST_F(ExportFiles, HfConfigPatchedInPlaceOrToOut) {
  const std::string config = path("config.json");
  std::ofstream(config) << llama_config().dump(1);
  export_hf_config(config, path("out.json"), table_8x(), {}, "t");
  std::ifstream in(path("out.json"));
  const ojson written = ojson::parse(in);
  EXPECT_EQ(written["max_position_embeddings"], 2048);
  export_hf_config(config, config, table_8x(), {}, "t");
  std::ifstream again(config);
  EXPECT_EQ(ojson::parse(again), written);
  std::ofstream(path("bad.json")) << "{\"hidden_size\": ";
  EXPECT_THAT(error_of<std::runtime_error>([&] { export_hf_config(path("bad.json"), path("x.json"), table_8x(), {}, "t"); }),
              HasSubstr("bad.json: not valid JSON"));
  EXPECT_THAT(error_of<std::runtime_error>([&] { export_hf_config(path("nope.json"), path("x.json"), table_8x(), {}, "t"); }),
              HasSubstr("nope.json: cannot open"));
  expect_nothing_at(path("x.json"));
}

// ---- GGUF ------------------------------------------------------------------------------------

std::vector<uint8_t> bytes_of(size_t n, int seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 29 + seed * 13 + 1);
  return v;
}

class GgufExport : public ExportFiles {
 protected:
  void SetUp() override {
    ExportFiles::SetUp();
    embd_ = bytes_of(64 * 10 * 2, 1);  // F16 [64, 10]
    q_ = bytes_of(64 / 32 * 34 * 64, 2);  // Q8_0 [64, 64]
    norm_ = bytes_of(64 * 4, 3);          // F32 [64]
    write_input(path("in.gguf"), "llama", true);
  }

  void write_input(const std::string& p, const std::string& arch, bool with_rope_dims) {
    std::vector<GgufKv> kvs = {
        kv("general.architecture", GgufValue::string(arch)),
        kv("general.name", GgufValue::string("tiny")),
        kv(arch + ".context_length", GgufValue::u32(256)),
        kv(arch + ".embedding_length", GgufValue::u32(64)),
        kv(arch + ".attention.head_count", GgufValue::u32(4)),
        kv(arch + ".rope.freq_base", GgufValue::f32(10000.0f)),
        kv(arch + ".rope.scaling.factor", GgufValue::f32(4.0f)),
        kv("tokenizer.ggml.tokens", GgufValue::string_array({"<s>", "a", "b"})),
        kv("tokenizer.ggml.scores", GgufValue::f32_array({0.0f, -1.0f, -2.0f})),
    };
    if (with_rope_dims) kvs.insert(kvs.begin() + 5, kv(arch + ".rope.dimension_count", GgufValue::u32(16)));
    formats::write_gguf(p, kvs,
                        {{"token_embd.weight", {64, 10}, GgmlType::F16, embd_.data(), embd_.size()},
                         {"blk.0.attn_q.weight", {64, 64}, GgmlType::Q8_0, q_.data(), q_.size()},
                         {"output_norm.weight", {64}, GgmlType::F32, norm_.data(), norm_.size()}});
  }

  static GgufKv kv(std::string key, GgufValue value) { return GgufKv{std::move(key), std::move(value), {}}; }

  // Every tensor and KV of `in` is in `out` with identical bytes, except the keys listed as changed.
  static void expect_preserved(const GgufFile& in, const GgufFile& out, const std::vector<std::string>& changed) {
    for (const auto& t : in.tensors()) {
      if (t.name.rfind("rope_", 0) == 0) continue;
      const formats::GgufTensorInfo* o = out.find_tensor(t.name);
      ASSERT_NE(o, nullptr) << t.name;
      EXPECT_EQ(o->dims, t.dims) << t.name;
      EXPECT_EQ(o->type, t.type) << t.name;
      ASSERT_EQ(o->nbytes, t.nbytes) << t.name;
      EXPECT_EQ(std::memcmp(o->data, t.data, t.nbytes), 0) << t.name;
    }
    for (const auto& k : in.kvs()) {
      bool is_changed = false;
      for (const auto& c : changed) is_changed = is_changed || c == k.key;
      if (is_changed) continue;
      size_t i = 0;
      while (i < out.kvs().size() && out.kvs()[i].key != k.key) ++i;
      ASSERT_LT(i, out.kvs().size()) << k.key;
      EXPECT_EQ(out.kvs()[i].raw, k.raw) << k.key;
    }
  }

  static std::vector<float> floats(const formats::GgufTensorInfo& t) {
    EXPECT_EQ(t.type, GgmlType::F32);
    std::vector<float> v(t.nbytes / 4);
    std::memcpy(v.data(), t.data, t.nbytes);
    return v;
  }

  std::vector<uint8_t> embd_, q_, norm_;
};

std::vector<float> as_floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// A full disk: the file and the cause, not "GGUF write failed", and no temp file beside the output.
TEST_F(GgufExport, AFullDiskIsNamedAndLeavesNoTemp) {
  formats::fail_writes_after_for_tests(64, ENOSPC);
  std::string error;
  try {
    export_gguf(table_8x(), path("in.gguf"), path("out.gguf"), {}, "table.json");
  } catch (const std::exception& e) {
    error = e.what();
  }
  formats::fail_writes_after_for_tests(0, 0);
  EXPECT_EQ(error, path("out.gguf") + ": cannot write: No space left on device");
  expect_nothing_at(path("out.gguf"));
}

TEST_F(GgufExport, LongropeModeKeepsEveryByteAndAddsFactorsAndKeys) {
  const FactorTable t = table_8x();
  const GgufExportReport r = export_gguf(t, path("in.gguf"), path("out.gguf"), {}, "table.json");
  EXPECT_EQ(r.architecture, "llama");
  EXPECT_EQ(r.n_rot, 16);
  EXPECT_THAT(r.removed, ElementsAre("llama.rope.scaling.factor"));
  const GgufFile in = GgufFile::open(path("in.gguf"));
  const GgufFile out = GgufFile::open(path("out.gguf"));
  expect_preserved(in, out, {"llama.context_length", "llama.rope.scaling.factor"});
  EXPECT_EQ(out.tensors().size(), in.tensors().size() + 2);
  const auto& lf = out.tensor("rope_factors_long.weight");
  EXPECT_EQ(lf.dims, (std::vector<uint64_t>{8}));
  EXPECT_EQ(floats(lf), as_floats(t.lambda));
  EXPECT_EQ(floats(out.tensor("rope_factors_short.weight")), std::vector<float>(8, 1.0f));
  EXPECT_EQ(out.get_string("llama.rope.scaling.type"), "longrope");
  EXPECT_EQ(out.get_u32("llama.rope.scaling.original_context_length"), 256u);
  EXPECT_FLOAT_EQ(out.get_f32("llama.rope.scaling.attn_factor"), static_cast<float>(su(8, 256)));
  EXPECT_EQ(out.get_u32("llama.context_length"), 2048u);
  EXPECT_EQ(out.find("llama.rope.scaling.factor"), nullptr);
  EXPECT_EQ(out.alignment(), 32u);
  for (const auto& ti : out.tensors()) EXPECT_EQ(ti.offset % 32, 0u) << ti.name;
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST_F(GgufExport, ReexportReplacesFactorsAndSwitchingModeRemovesTheOthers) {
  FactorTable t = table_8x();
  export_gguf(t, path("in.gguf"), path("a.gguf"), {}, "t");
  t.lambda = {1, 1, 1, 2, 2, 3, 5, 9};
  t.short_lambda = {1, 1, 1, 1, 1, 1.1, 1.2, 1.3};
  export_gguf(t, path("a.gguf"), path("b.gguf"), {}, "t");
  const GgufFile a = GgufFile::open(path("a.gguf"));
  const GgufFile b = GgufFile::open(path("b.gguf"));
  EXPECT_EQ(b.tensors().size(), a.tensors().size());
  EXPECT_EQ(b.kvs().size(), a.kvs().size());
  EXPECT_EQ(floats(b.tensor("rope_factors_long.weight")), as_floats(t.lambda));
  EXPECT_EQ(floats(b.tensor("rope_factors_short.weight")), as_floats(t.short_lambda));
  for (size_t i = 0; i < a.tensors().size(); ++i) EXPECT_EQ(b.tensors()[i].name, a.tensors()[i].name);  // in place

  GgufExportOptions freqs;
  freqs.mode = parse_gguf_export_mode("freqs");
  const GgufExportReport r = export_gguf(t, path("b.gguf"), path("c.gguf"), freqs, "t");
  EXPECT_THAT(r.removed, ElementsAre("rope_factors_long.weight", "rope_factors_short.weight"));
  ASSERT_EQ(r.values.warnings.size(), 1u);
  EXPECT_THAT(r.values.warnings[0], HasSubstr("short_lambda is not exported"));
  const GgufFile c = GgufFile::open(path("c.gguf"));
  EXPECT_EQ(c.find_tensor("rope_factors_long.weight"), nullptr);
  EXPECT_EQ(c.find_tensor("rope_factors_short.weight"), nullptr);
  EXPECT_EQ(floats(c.tensor("rope_freqs.weight")), as_floats(t.lambda));
  EXPECT_EQ(c.get_string("llama.rope.scaling.type"), "none");
  const GgufFile in = GgufFile::open(path("in.gguf"));
  expect_preserved(in, c, {"llama.context_length", "llama.rope.scaling.factor"});
}

TEST_F(GgufExport, FreqsModeOnTheOriginal) {
  GgufExportOptions o;
  o.mode = GgufExportMode::FREQS;
  const FactorTable t = table_8x();
  export_gguf(t, path("in.gguf"), path("f.gguf"), o, "t");
  const GgufFile in = GgufFile::open(path("in.gguf"));
  const GgufFile f = GgufFile::open(path("f.gguf"));
  expect_preserved(in, f, {"llama.context_length", "llama.rope.scaling.factor"});
  EXPECT_EQ(f.tensors().size(), in.tensors().size() + 1);
  EXPECT_EQ(f.tensor("rope_freqs.weight").dims, (std::vector<uint64_t>{8}));
  EXPECT_EQ(floats(f.tensor("rope_freqs.weight")), as_floats(t.lambda));
  EXPECT_FLOAT_EQ(f.get_f32("llama.rope.scaling.attn_factor"), static_cast<float>(su(8, 256)));
  EXPECT_EQ(f.get_u32("llama.rope.scaling.original_context_length"), 256u);  // L, for whoever reads it back
  EXPECT_THROW(parse_gguf_export_mode("static"), std::invalid_argument);
}

TEST_F(GgufExport, NRotFromEmbeddingLengthAndRefusals) {
  write_input(path("nodims.gguf"), "phi3", /*with_rope_dims=*/false);  // n_rot = 64 / 4 = 16
  const GgufExportReport r = export_gguf(table_8x(), path("nodims.gguf"), path("phi3.gguf"), {}, "t");
  EXPECT_EQ(r.n_rot, 16);
  EXPECT_EQ(GgufFile::open(path("phi3.gguf")).get_string("phi3.rope.scaling.type"), "longrope");

  GgufExportOptions freqs;
  freqs.mode = GgufExportMode::FREQS;
  EXPECT_THAT(error_of<InvalidSetting>([&] { export_gguf(table_8x(), path("nodims.gguf"), path("x.gguf"), freqs, "t"); }),
              HasSubstr("nodims.gguf: key 'general.architecture': 'phi3' does not read rope_freqs.weight"));
  FactorTable four = table_8x();
  four.rotary_dim = 0;
  four.lambda.resize(4);
  EXPECT_EQ(error_of<formats::FormatError>([&] { export_gguf(four, path("in.gguf"), path("x.gguf"), {}, "t.json"); }),
            path("in.gguf") + ": key 'llama.rope.dimension_count': n_rot 16 needs 8 factors, the table t.json has 4");
  FactorTable start = table_8x();
  start.start_tokens = 8;
  EXPECT_THAT(error_of<std::runtime_error>([&] { export_gguf(start, path("in.gguf"), path("x.gguf"), {}, "t.json"); }),
              HasSubstr("t.json: start_tokens: n̂ = 8 cannot be exported"));
  FactorTable other_base = table_8x();
  other_base.rope_base = 500000;
  EXPECT_THAT(error_of<formats::FormatError>([&] { export_gguf(other_base, path("in.gguf"), path("x.gguf"), {}, "t"); }),
              HasSubstr("key 'llama.rope.freq_base': 10000 but the table was searched with rope base 500000"));
  EXPECT_THAT(error_of<std::invalid_argument>([&] { export_gguf(table_8x(), path("in.gguf"), path("in.gguf"), {}, "t"); }),
              HasSubstr("the output must differ from the input GGUF"));
  EXPECT_THAT(error_of<formats::FormatError>([&] { export_gguf(table_8x(), path("none.gguf"), path("x.gguf"), {}, "t"); }),
              HasSubstr("none.gguf: cannot open"));
  expect_nothing_at(path("x.gguf"));
  std::ofstream(path("junk.gguf")) << "not a gguf at all, but long enough to hold a header";
  EXPECT_THAT(error_of<formats::FormatError>([&] { export_gguf(table_8x(), path("junk.gguf"), path("x.gguf"), {}, "t"); }),
              HasSubstr("junk.gguf: header: bad magic"));
  expect_nothing_at(path("x.gguf"));
}

TEST_F(GgufExport, StartTokensDroppedOnRequest) {
  FactorTable t = table_8x();
  t.start_tokens = 2;
  GgufExportOptions o;
  o.request.drop_start_tokens = true;
  const GgufExportReport r = export_gguf(t, path("in.gguf"), path("d.gguf"), o, "t");
  ASSERT_FALSE(r.values.warnings.empty());
  EXPECT_THAT(r.values.warnings[0], HasSubstr("WARNING: dropping n̂ = 2"));
  EXPECT_TRUE(fs::exists(path("d.gguf")));
}

TEST(ExportValues, SuFactorAndDefaults) {
  EXPECT_DOUBLE_EQ(longrope_attention_factor(32, 4096), 1.1902380714238083);  // Phi-3-mini-128k's attn_factor
  EXPECT_EQ(longrope_attention_factor(1, 4096), 1.0);
  FactorTable t = table_8x();
  t.target_length = 0;  // from s·L
  const ExportValues v = resolve_export_values(t, {}, 256, "t");
  EXPECT_EQ(v.target_length, 2048);
  EXPECT_EQ(v.short_factor, std::vector<double>(8, 1.0));
}

}  // namespace
}  // namespace longrope
