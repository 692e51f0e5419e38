// Checkpoint layouts: Phi-3's fused qkv_proj/gate_up_proj split at load and written fused again, and
// the derived tensors older LLaMA checkpoints carry.
#include "models/checkpoint.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "formats/safetensors.h"
#include "tests/test_models.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// The tiny model as Phi-3: half of each head rotated, untied head, L at its own length.
LlamaConfig tiny_phi3_config() {
  LlamaConfig c = tiny_config();
  c.model_type = "phi3";
  c.partial_rotary_factor = 0.5;
  c.tie_word_embeddings = false;
  return c;
}

// The stored rows [first, first + rows) of a float32 tensor in the file.
at::Tensor stored_rows(const formats::TensorView& view, int64_t first, int64_t rows) {
  const int64_t columns = view.shape.at(1);
  at::Tensor t = at::empty({rows, columns}, at::kFloat);
  std::memcpy(t.data_ptr(), view.data + first * columns * sizeof(float), static_cast<size_t>(rows * columns) * sizeof(float));
  return t;
}

TEST(Checkpoint, Phi3IsStoredFusedAndSplitAtLoad) {
  const fs::path dir = fresh_temp_dir("phi3-layout");
  const LlamaConfig c = tiny_phi3_config();
  const LlamaWeights w = random_llama_weights(c, 21, LoadOptions{});
  for (size_t shard : {size_t(0), size_t(20000)}) {
    const fs::path out = dir / std::to_string(shard);
    save_llama_checkpoint(out.string(), c, w, shard);
    EXPECT_EQ(fs::exists(out / "model.safetensors.index.json"), shard > 0);
    // Phi3ForCausalLM's names: qkv_proj rows [q (H·D = 32); k (KVH·D = 16); v (16)], gate_up_proj [gate (64); up (64)].
    const formats::SafetensorsCheckpoint file = formats::SafetensorsCheckpoint::open(out.string());
    EXPECT_FALSE(file.contains("model.layers.0.self_attn.q_proj.weight"));
    EXPECT_FALSE(file.contains("model.layers.1.mlp.up_proj.weight"));
    const formats::TensorView& qkv = file.get("model.layers.1.self_attn.qkv_proj.weight");
    EXPECT_EQ(qkv.shape, (std::vector<int64_t>{64, 32}));
    EXPECT_TRUE(at::equal(stored_rows(qkv, 0, 32), w.layers[1].wq));
    EXPECT_TRUE(at::equal(stored_rows(qkv, 32, 16), w.layers[1].wk));
    EXPECT_TRUE(at::equal(stored_rows(qkv, 48, 16), w.layers[1].wv));
    const formats::TensorView& gate_up = file.get("model.layers.0.mlp.gate_up_proj.weight");
    EXPECT_EQ(gate_up.shape, (std::vector<int64_t>{128, 32}));
    EXPECT_TRUE(at::equal(stored_rows(gate_up, 0, 64), w.layers[0].w_gate));
    EXPECT_TRUE(at::equal(stored_rows(gate_up, 64, 64), w.layers[0].w_up));

    const LlamaModel loaded = LlamaModel::load(out.string(), ModelOptions{});
    EXPECT_EQ(loaded.config().model_type, "phi3");
    EXPECT_EQ(loaded.config().rotary_dim(), 4);
    LlamaWeights want = w, got = loaded.weights();
    std::vector<at::Tensor> wanted;
    for_each_weight(c, want, [&](const std::string&, at::Tensor& slot, const std::vector<int64_t>&, bool) { wanted.push_back(slot); });
    size_t i = 0;
    for_each_weight(c, got, [&](const std::string& name, at::Tensor& slot, const std::vector<int64_t>&, bool) {
      const at::Tensor& expected = wanted.at(i++);
      EXPECT_EQ(slot.defined(), expected.defined()) << name;
      if (slot.defined() && expected.defined()) EXPECT_TRUE(at::equal(slot, expected)) << name;
    });
    EXPECT_EQ(loaded.parameter_count(), tiny_model(c, 21).parameter_count());
  }
}

TEST(Checkpoint, Phi3FusedTensorOfTheWrongSizeNamesItsShapes) {
  const fs::path dir = fresh_temp_dir("phi3-wrong-size");
  const LlamaConfig c = tiny_phi3_config();
  save_llama_checkpoint(dir.string(), c, random_llama_weights(c, 22, LoadOptions{}));
  LlamaConfig wider = c;
  wider.intermediate_size = 48;
  EXPECT_THAT([&] { load_llama_weights(wider, dir.string(), LoadOptions{}); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr(
                  "tensor 'model.layers.0.mlp.gate_up_proj.weight': shape [128, 32] does not match the config, expected [96, 32] "
                  "(rows: gate_proj 48, up_proj 48)")));
  LlamaConfig fewer_kv = c;
  fewer_kv.num_key_value_heads = 1;
  EXPECT_THAT([&] { load_llama_weights(fewer_kv, dir.string(), LoadOptions{}); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr(
                  "tensor 'model.layers.0.self_attn.qkv_proj.weight': shape [64, 32] does not match the config, expected [48, 32] "
                  "(rows: q_proj 32, k_proj 8, v_proj 8)")));
  // A LLaMA-layout file read as Phi-3 misses the fused tensor by its stored name.
  const fs::path llama = dir / "llama";
  LlamaConfig as_llama = c;
  as_llama.model_type = "llama";
  save_llama_checkpoint(llama.string(), as_llama, random_llama_weights(as_llama, 23, LoadOptions{}));
  EXPECT_THAT([&] { load_llama_weights(c, llama.string(), LoadOptions{}); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("missing tensor 'model.layers.0.self_attn.qkv_proj.weight'")));
}

// Older Hugging Face LLaMA checkpoints store each layer's RoPE inverse frequencies: derived from the
// config, so the loader passes over them; any other tensor the config does not account for is refused.
TEST(Checkpoint, SkipsStoredRotaryInverseFrequencies) {
  const fs::path dir = fresh_temp_dir("inv-freq");
  const LlamaConfig c = tiny_config();
  const LlamaWeights w = random_llama_weights(c, 24, LoadOptions{});
  save_llama_checkpoint((dir / "clean").string(), c, w);
  const formats::SafetensorsCheckpoint clean = formats::SafetensorsCheckpoint::open((dir / "clean").string());
  const auto with_extra = [&](const std::string& model, const std::vector<std::string>& extra) {
    const at::Tensor inv_freq = at::arange(4, at::kFloat);
    std::vector<formats::TensorToWrite> tensors;
    for (const std::string& name : clean.names()) {
      const formats::TensorView& v = clean.get(name);
      tensors.push_back({name, v.dtype, v.shape, v.data, v.nbytes});
    }
    for (const std::string& name : extra) tensors.push_back({name, formats::DType::F32, {4}, inv_freq.data_ptr(), 16});
    fs::create_directories(dir / model);
    fs::copy_file(dir / "clean" / "config.json", dir / model / "config.json");
    formats::write_safetensors((dir / model / "model.safetensors").string(), tensors, {{"format", "pt"}});
    return (dir / model).string();
  };
  const std::string old = with_extra("old", {"model.layers.0.self_attn.rotary_emb.inv_freq", "model.layers.1.self_attn.rotary_emb.inv_freq"});
  const LlamaModel loaded = LlamaModel::load(old, ModelOptions{});
  EXPECT_TRUE(at::equal(loaded.weights().layers[1].wq, w.layers[1].wq));
  const std::string other = with_extra("other", {"model.layers.0.self_attn.inv_freq"});
  EXPECT_THAT([&] { LlamaModel::load(other, ModelOptions{}); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("tensor 'model.layers.0.self_attn.inv_freq' is not part of")));
}

}  // namespace
}  // namespace longrope
