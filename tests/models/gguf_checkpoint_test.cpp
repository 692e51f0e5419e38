// llama-architecture GGUF input: a model written the way llama.cpp's converter writes it (Q and K rows
// permuted, ggml dim order) loads back to the same weights and logits; broken files fail by name.
#include "models/gguf_checkpoint.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "formats/format_error.h"
#include "formats/gguf.h"
#include "models/llama_model.h"
#include "tests/test_models.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using formats::GgmlType;
using formats::GgufKv;
using formats::GgufValue;
using ::testing::HasSubstr;

// llama.cpp's converter layout: within each head, row half·D/2 + j moves to 2j + half.
at::Tensor permute_like_llama_cpp(const at::Tensor& w, int64_t heads) {
  const int64_t D = w.size(0) / heads;
  std::vector<int64_t> split = {heads, 2, D / 2};
  for (int64_t i = 1; i < w.dim(); ++i) split.push_back(w.size(i));
  return w.reshape(split).transpose(1, 2).reshape(w.sizes()).contiguous();
}

struct GgufModelFile {
  std::vector<GgufKv> kvs;
  std::vector<at::Tensor> keep;
  std::vector<formats::GgufTensorToWrite> tensors;

  GgufModelFile(const LlamaConfig& c, const LlamaWeights& weights) {
    auto kv = [&](const std::string& k, GgufValue v) { kvs.push_back(GgufKv{k, std::move(v), {}}); };
    kv("general.architecture", GgufValue::string("llama"));
    kv("llama.context_length", GgufValue::u32(static_cast<uint32_t>(c.max_position_embeddings)));
    kv("llama.embedding_length", GgufValue::u32(static_cast<uint32_t>(c.hidden_size)));
    kv("llama.feed_forward_length", GgufValue::u32(static_cast<uint32_t>(c.intermediate_size)));
    kv("llama.block_count", GgufValue::u32(static_cast<uint32_t>(c.num_hidden_layers)));
    kv("llama.attention.head_count", GgufValue::u32(static_cast<uint32_t>(c.num_attention_heads)));
    kv("llama.attention.head_count_kv", GgufValue::u32(static_cast<uint32_t>(c.num_key_value_heads)));
    kv("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(c.rms_norm_eps)));
    kv("llama.rope.freq_base", GgufValue::f32(static_cast<float>(c.rope_theta)));
    kv("llama.vocab_size", GgufValue::u32(static_cast<uint32_t>(c.vocab_size)));
    LlamaWeights w = weights;
    for_each_weight(c, w, [&](const std::string& hf, at::Tensor& slot, const std::vector<int64_t>&, bool required) {
      if (!slot.defined() || (!required && hf == "lm_head.weight")) return;
      const std::string name = gguf_tensor_name(hf);
      at::Tensor t = slot.to(at::kFloat).contiguous();
      if (name.find("attn_q.") != std::string::npos) t = permute_like_llama_cpp(t, c.num_attention_heads);
      if (name.find("attn_k.") != std::string::npos) t = permute_like_llama_cpp(t, c.num_key_value_heads);
      keep.push_back(t);
      std::vector<uint64_t> dims(t.sizes().rbegin(), t.sizes().rend());
      tensors.push_back({name, dims, GgmlType::F32, t.data_ptr(), t.nbytes()});
    });
  }

  std::string write(const fs::path& path) const {
    formats::write_gguf(path.string(), kvs, tensors);
    return path.string();
  }
};

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  }
  return "<no error>";
}

TEST(GgufCheckpoint, LoadsLlamaCppLayoutAsTheSameModel) {
  c10::InferenceMode guard;
  const fs::path dir = fresh_temp_dir("gguf-load");
  LlamaConfig c = tiny_config();
  c.tie_word_embeddings = false;
  c.rope_theta = 500.0;
  const LlamaModel original = tiny_model(c, 7);
  const std::string path = GgufModelFile(c, original.weights()).write(dir / "m.gguf");
  ASSERT_TRUE(formats::is_gguf_file(path));

  const LlamaModel loaded = LlamaModel::load(path, {});
  EXPECT_EQ(loaded.config().num_key_value_heads, 2);
  EXPECT_EQ(loaded.config().head_dim, 8);
  EXPECT_DOUBLE_EQ(loaded.config().rope_theta, 500.0);
  EXPECT_FALSE(loaded.config().tie_word_embeddings);
  EXPECT_EQ(loaded.config().rope_scaling.type, "default");
  EXPECT_TRUE(at::equal(loaded.weights().layers[1].wq, original.weights().layers[1].wq));
  EXPECT_TRUE(at::equal(loaded.weights().layers[0].wk, original.weights().layers[0].wk));
  EXPECT_TRUE(at::equal(loaded.weights().lm_head, original.weights().lm_head));

  const at::Tensor tokens = at::arange(40, at::kLong).mul(37).remainder(256).unsqueeze(0);  // any fixed ids: both forwards must agree
  const RopeScaling none = rope_none(original.rope_geometry());
  const RopeTable t = build_rope_table(original.rope_geometry(), none, 40, original.device(), original.dtype());
  EXPECT_TRUE(at::equal(loaded.logits(loaded.hidden_states(tokens, t)), original.logits(original.hidden_states(tokens, t))));
  fs::remove_all(dir);
}

TEST(GgufCheckpoint, RopeFreqsBecomeALongRopeTable) {
  const fs::path dir = fresh_temp_dir("gguf-freqs");
  const LlamaConfig c = tiny_config();
  GgufModelFile file(c, random_llama_weights(c, 3, {}));
  const std::vector<float> freqs = {1.0f, 1.5f, 2.0f, 4.0f};  // head_dim 8 → 4 pairs
  file.tensors.push_back({"rope_freqs.weight", {4}, GgmlType::F32, freqs.data(), 16});
  file.kvs.push_back({"llama.rope.scaling.attn_factor", GgufValue::f32(1.25f), {}});
  const formats::GgufFile gguf = formats::GgufFile::open(file.write(dir / "f.gguf"));
  const LlamaConfig loaded = llama_config_from_gguf(gguf);
  EXPECT_EQ(loaded.rope_scaling.type, "longrope");
  EXPECT_EQ(loaded.rope_scaling.long_factor, (std::vector<double>{1.0, 1.5, 2.0, 4.0}));
  EXPECT_EQ(loaded.rope_scaling.short_factor, loaded.rope_scaling.long_factor);
  EXPECT_DOUBLE_EQ(*loaded.rope_scaling.attention_factor, 1.25);
  fs::remove_all(dir);
}

// rope_freqs divide θ_i as a table's λ do: what a table may not hold is refused here too, named by the
// tensor (a NaN was once reported as the config's short_factor[0]).
TEST(GgufCheckpoint, RopeFreqsAreCheckedAsATableIs) {
  const fs::path dir = fresh_temp_dir("gguf-freqs-checked");
  const LlamaConfig c = tiny_config();
  const LlamaWeights w = random_llama_weights(c, 3, {});
  const std::vector<std::pair<std::vector<float>, std::string>> cases = {
      {{1.0f, 0.5f, 2.0f, 4.0f}, "tensor 'rope_freqs.weight'[1]: 0.5 is below 1"},
      {{1.0f, 2.0f, 1.5f, 4.0f}, "tensor 'rope_freqs.weight'[2]: 1.5 is below the factor before it (2)"},
      {{1.0f, std::nanf(""), 2.0f, 4.0f}, "tensor 'rope_freqs.weight'[1]: must be a positive number, got nan"}};
  for (const auto& [freqs, expected] : cases) {
    GgufModelFile file(c, w);
    file.tensors.push_back({"rope_freqs.weight", {4}, GgmlType::F32, freqs.data(), 16});
    const std::string path = file.write(dir / "f.gguf");
    EXPECT_THAT(error_of([&] { llama_config_from_gguf(formats::GgufFile::open(path)); }), HasSubstr(path + ": " + expected));
  }
  fs::remove_all(dir);
}

TEST(GgufCheckpoint, BrokenFilesFailWithOneLineNamingFileAndTensor) {
  const fs::path dir = fresh_temp_dir("gguf-broken");
  const LlamaConfig c = tiny_config();
  const LlamaWeights w = random_llama_weights(c, 5, {});

  GgufModelFile quantized(c, w);  // an I-quant in place of one weight (same block size): refused by name
  std::vector<uint8_t> iq4(18 * 32 * 16 / 32, 0);
  for (auto& t : quantized.tensors)
    if (t.name == "blk.1.attn_v.weight") t = {t.name, t.dims, GgmlType::IQ4_NL, iq4.data(), iq4.size()};
  const std::string qpath = quantized.write(dir / "q.gguf");
  const std::string qerr = error_of([&] { LlamaModel::load(qpath, {}); });
  EXPECT_THAT(qerr, HasSubstr(qpath));
  EXPECT_THAT(qerr, HasSubstr("blk.1.attn_v.weight"));
  EXPECT_THAT(qerr, HasSubstr("IQ4_NL is not supported"));

  const std::string good = GgufModelFile(c, w).write(dir / "good.gguf");
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (size_t keep : {size_t{6}, size_t{200}, bytes.size() / 2, bytes.size() - 1}) {
    const fs::path cut = dir / ("cut" + std::to_string(keep) + ".gguf");
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    EXPECT_THAT(error_of([&] { LlamaModel::load(cut.string(), {}); }), HasSubstr(cut.string())) << keep;
  }

  GgufModelFile wrong_arch(c, w);
  wrong_arch.kvs[0].value = GgufValue::string("qwen2");
  const std::string apath = wrong_arch.write(dir / "arch.gguf");
  EXPECT_THAT(error_of([&] { LlamaModel::load(apath, {}); }), HasSubstr("'qwen2' is not supported"));

  GgufModelFile missing(c, w);
  missing.tensors.erase(missing.tensors.begin() + 3);
  const std::string mpath = missing.write(dir / "missing.gguf");
  EXPECT_THAT(error_of([&] { LlamaModel::load(mpath, {}); }), HasSubstr("missing tensor"));

  GgufModelFile wide(c, w);
  wide.kvs.push_back({"llama.feed_forward_length", GgufValue::u32(96), {}});
  wide.kvs.erase(wide.kvs.begin() + 3);  // the original feed_forward_length
  const std::string wpath = wide.write(dir / "shape.gguf");
  EXPECT_THAT(error_of([&] { LlamaModel::load(wpath, {}); }), HasSubstr("does not match the metadata"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longrope
