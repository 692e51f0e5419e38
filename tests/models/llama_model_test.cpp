// The decoder and its checkpoints: batching, dtypes, round trips, corrupt or mismatched files.
#include "models/llama_model.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include <filesystem>
#include <fstream>

#include "formats/safetensors.h"
#include "models/forward_profile.h"
#include "models/rope_methods.h"
#include "tests/test_models.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Token ids from their own seeded generator: a test's input is the same whatever ran before it.
at::Tensor random_tokens(at::IntArrayRef shape, uint64_t seed) {
  return at::randint(0, 256, shape, at::detail::createCPUGenerator(seed), at::kLong);
}

at::Tensor forward_logits(const LlamaModel& m, const at::Tensor& tokens, const RopeScaling& s) {
  c10::InferenceMode guard;
  const RopeTable t = build_rope_table(m.rope_geometry(), s, tokens.size(1), m.device(), m.dtype());
  return m.logits(m.hidden_states(tokens, t));
}

// rms_norm's one-pass CPU path (no gradient needed) against LibTorch's composition (taken when the input
// requires grad): the same to float rounding (the mean of squares is summed in another order), on a
// strided input too.
TEST(LlamaModel, OnePassRmsNormMatchesTheComposition) {
  at::manual_seed(11);
  const at::Tensor weight = at::randn({48});
  const at::Tensor wide = at::randn({2, 33, 96}) * 3;
  for (const at::Tensor& x : {wide.narrow(-1, 0, 48).contiguous(), wide.narrow(-1, 48, 48)}) {
    const at::Tensor fast = rms_norm(x, weight, 1e-5);
    const at::Tensor reference = rms_norm(x.detach().clone().requires_grad_(true), weight, 1e-5).detach();
    ASSERT_EQ(fast.sizes(), reference.sizes());
    EXPECT_TRUE(at::allclose(fast, reference, /*rtol=*/1e-6, /*atol=*/1e-6)) << (fast - reference).abs().max().item<float>();
  }
}

TEST(LlamaModel, BatchedForwardEqualsSingleRows) {
  const LlamaModel m = tiny_model(tiny_config(), 1);
  at::Tensor tokens = random_tokens({3, 50}, 101);
  const RopeScaling s = rope_yarn(m.rope_geometry(), 4.0);
  const at::Tensor batched = forward_logits(m, tokens, s);
  for (int64_t b = 0; b < 3; ++b)
    EXPECT_TRUE(at::allclose(batched[b], forward_logits(m, tokens.slice(0, b, b + 1), s)[0], 1e-5, 1e-5)) << "row " << b;
}

TEST(LlamaModel, ChunkedAttentionAndMlpBlocksMatchFull) {
  const LlamaConfig c = tiny_config();
  ModelOptions full_opts, chunked_opts;
  full_opts.attention.backend = AttentionBackend::kFull;
  full_opts.mlp_chunk_tokens = 0;
  chunked_opts.attention.backend = AttentionBackend::kChunked;
  chunked_opts.attention.chunk_score_bytes = 4 * 4 * 120 * 8;  // 8 rows per block
  chunked_opts.mlp_chunk_tokens = 33;
  const LlamaWeights w = random_llama_weights(c, 2, LoadOptions{});
  const LlamaModel full(c, w, full_opts), chunked(c, w, chunked_opts);
  at::Tensor tokens = random_tokens({1, 120}, 102);
  const RopeScaling s = rope_pi(full.rope_geometry(), 2.0);
  EXPECT_TRUE(at::allclose(forward_logits(full, tokens, s), forward_logits(chunked, tokens, s), 1e-5, 1e-5));
}

TEST(LlamaModel, Bf16StaysCloseToF32) {
  const LlamaConfig c = tiny_config();
  const LlamaWeights w32 = random_llama_weights(c, 3, LoadOptions{});
  LoadOptions bf;
  bf.dtype = at::kBFloat16;
  const LlamaWeights w16 = random_llama_weights(c, 3, bf);
  ModelOptions o16;
  o16.load = bf;
  const LlamaModel m32(c, w32, ModelOptions{}), m16(c, w16, o16);
  at::Tensor tokens = random_tokens({1, 64}, 103);
  const RopeScaling s = rope_none(m32.rope_geometry());
  const at::Tensor a = forward_logits(m32, tokens, s), b = forward_logits(m16, tokens, s);
  const double scale = a.abs().max().item<double>();
  EXPECT_LT((a - b).abs().max().item<double>(), 0.05 * scale + 1e-3);
}

// A profile counts each stage's calls and model FLOPs (causal attention: the pairs on and below the
// diagonal, or inside a sliding window), leaves the output as it is, and records nothing outside its scope.
TEST(ForwardProfile, CountsStagesAndTheirFlops) {
  LlamaConfig c = tiny_config();
  const LlamaModel m = tiny_model(c, 1);
  c.sliding_window = 16;
  const LlamaModel windowed = tiny_model(c, 1);
  const at::Tensor tokens = random_tokens({2, 40}, 7);
  const RopeScaling s = rope_none(m.rope_geometry());
  const at::Tensor plain = forward_logits(m, tokens, s);
  ForwardProfile profile, windowed_profile;
  at::Tensor profiled;
  {
    ProfilingScope scope(&profile);
    profiled = forward_logits(m, tokens, s);
  }
  {
    ProfilingScope scope(&windowed_profile);
    forward_logits(windowed, tokens, s);
  }
  EXPECT_TRUE(at::equal(plain, profiled));
  const auto stage = [](const ForwardProfile& p, const std::string& name) {
    for (const StageTotals& t : p.stages)
      if (t.stage == name) return t;
    ADD_FAILURE() << "no stage " << name;
    return StageTotals{};
  };
  const double B = 2, T = 40, C = 32, H = 4, KVH = 2, D = 8, I = 64, layers = 2;
  EXPECT_EQ(stage(profile, "attention").calls, 2);
  EXPECT_DOUBLE_EQ(stage(profile, "attention").flops, layers * 4 * B * H * D * T * (T + 1) / 2);
  EXPECT_DOUBLE_EQ(stage(windowed_profile, "attention").flops, layers * 4 * B * H * D * (16 * 17 / 2 + (T - 16) * 16));
  EXPECT_DOUBLE_EQ(stage(profile, "q/k/v projections").flops, layers * 2 * B * T * C * (H + 2 * KVH) * D);
  EXPECT_DOUBLE_EQ(stage(profile, "output projection").flops, layers * 2 * B * T * H * D * C);
  EXPECT_DOUBLE_EQ(stage(profile, "mlp").flops, layers * 2 * 3 * B * T * C * I);
  EXPECT_EQ(stage(profile, "norms").calls, 2 * layers + 1);
  EXPECT_GT(profile.total_seconds(), 0);
  forward_logits(m, tokens, s);
  EXPECT_EQ(stage(profile, "attention").calls, 2);
}

TEST(LlamaModel, SaveLoadRoundTripAllDtypesAndShards) {
  const fs::path dir = fresh_temp_dir("roundtrip");
  const LlamaConfig c = tiny_config();
  for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
    for (size_t shard : {size_t(0), size_t(20000)}) {
      LoadOptions lo;
      lo.dtype = dtype;
      const LlamaWeights w = random_llama_weights(c, 4, lo);
      const fs::path out = dir / (std::string(c10::toString(dtype)) + std::to_string(shard));
      save_llama_checkpoint(out.string(), c, w, shard);
      if (shard) EXPECT_TRUE(fs::exists(out / "model.safetensors.index.json"));
      ModelOptions mo;
      mo.load = lo;
      const LlamaModel loaded = LlamaModel::load(out.string(), mo);
      EXPECT_TRUE(at::equal(loaded.weights().layers[1].wk, w.layers[1].wk));
      EXPECT_TRUE(at::equal(loaded.weights().lm_head, w.embed));  // tied
    }
  }
}

TEST(LlamaModel, RejectsMismatchedAndMissingTensors) {
  const fs::path dir = fresh_temp_dir("mismatch");
  LlamaConfig c = tiny_config();
  save_llama_checkpoint(dir.string(), c, random_llama_weights(c, 5, LoadOptions{}));
  LlamaConfig wider = c;
  wider.intermediate_size = 100;
  try {
    load_llama_weights(wider, dir.string(), LoadOptions{});
    FAIL() << "expected a shape error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.layers.0.mlp.gate_proj.weight"));
    EXPECT_THAT(e.what(), HasSubstr("expected [100, 32]"));
  }
  LlamaConfig deeper = c;
  deeper.num_hidden_layers = 3;
  try {
    load_llama_weights(deeper, dir.string(), LoadOptions{});
    FAIL() << "expected a missing-tensor error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing tensor 'model.layers.2.input_layernorm.weight'"));
  }
  // A config naming fewer layers than the file holds would run without the rest.
  LlamaConfig shallower = c;
  shallower.num_hidden_layers = 1;
  EXPECT_THAT([&] { load_llama_weights(shallower, dir.string(), LoadOptions{}); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("tensor 'model.layers.1.input_layernorm.weight' is not part of")));
}

// Decoding with a KV cache gives the logits of full forwards: a prefill of 30 tokens, then 10 one at a
// time, against one forward over all 40 (grouped-query heads, a LongRoPE table with n̂ = 4 past L).
TEST(LlamaModel, CachedDecodingEqualsFullForwards) {
  const LlamaConfig c = tiny_config();
  for (int64_t window : {0, 7}) {
    ModelOptions o;
    o.attention.backend = AttentionBackend::kFull;
    o.attention.sliding_window = window;  // 7: a Mistral-style window on both paths
    const LlamaModel m = tiny_model(c, 9, o);
    const at::Tensor tokens = random_tokens({1, 40}, 104);
    const RopeGeometry g = m.rope_geometry();
    std::vector<double> lambda(4);
    for (size_t i = 0; i < lambda.size(); ++i) lambda[i] = 1.0 + 0.5 * static_cast<double>(i);
    const RopeTable rope = build_rope_table(g, rope_longrope(g, lambda, 4, 2.0), 40, m.device(), m.dtype());
    c10::InferenceMode guard;
    const at::Tensor full = m.logits(m.hidden_states(tokens, rope));
    KvCache cache;
    std::vector<at::Tensor> pieces = {m.logits(m.hidden_states(tokens.slice(1, 0, 30), rope, cache))};
    for (int64_t p = 30; p < 40; ++p) pieces.push_back(m.logits(m.hidden_states(tokens.slice(1, p, p + 1), rope, cache)));
    EXPECT_EQ(cache.length, 40);
    const at::Tensor cached = at::cat(pieces, 1);
    EXPECT_LT((cached - full).abs().max().item<double>(), 1e-5) << "window " << window;
  }
}

// A NaN or infinite weight is refused at load, naming the tensor, instead of a perplexity of nan.
TEST(LlamaModel, RejectsNonFiniteWeights) {
  const fs::path dir = fresh_temp_dir("nan-weight");
  const LlamaConfig c = tiny_config();
  LlamaWeights w = random_llama_weights(c, 7, LoadOptions{});
  w.layers[1].w_up[3][5] = std::numeric_limits<float>::quiet_NaN();
  save_llama_checkpoint(dir.string(), c, w);
  EXPECT_THAT([&] { LlamaModel::load(dir.string(), ModelOptions{}); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("tensor 'model.layers.1.mlp.up_proj.weight': holds non-finite")));
}

// Where a forward leaves the finite numbers, for the error a non-finite perplexity gives.
TEST(LlamaModel, NamesTheFirstNonFiniteLayer) {
  const LlamaConfig c = tiny_config();
  LlamaModel m = tiny_model(c, 8);
  const at::Tensor tokens = random_tokens({1, 20}, 105);
  const RopeTable rope = build_rope_table(m.rope_geometry(), rope_none(m.rope_geometry()), 20, m.device(), m.dtype());
  EXPECT_EQ(m.first_non_finite(tokens, rope), "");
  m.weights().layers[1].w_down.fill_(std::numeric_limits<float>::infinity());
  EXPECT_EQ(m.first_non_finite(tokens, rope), "layer 1 MLP");
}

TEST(LlamaModel, RejectsCorruptCheckpointFile) {
  const fs::path dir = fresh_temp_dir("corrupt");
  const LlamaConfig c = tiny_config();
  save_llama_checkpoint(dir.string(), c, random_llama_weights(c, 6, LoadOptions{}));
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") / 2);  // truncated download
  try {
    LlamaModel::load(dir.string(), ModelOptions{});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model.safetensors"));
  }
  EXPECT_THROW(LlamaModel::load((dir / "nope").string(), ModelOptions{}), std::runtime_error);
}

TEST(LlamaConfig, ParsesBothRopeLayoutsAndRejectsBadShapes) {
  const std::string v5 = R"({"vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,
    "num_attention_heads":2,"max_position_embeddings":128,"rope_parameters":{"rope_type":"yarn","factor":4.0,
    "rope_theta":500.0,"original_max_position_embeddings":32}})";
  const LlamaConfig a = parse_llama_config(v5, "v5.json");
  EXPECT_EQ(a.rope_scaling.type, "yarn");
  EXPECT_EQ(a.rope_theta, 500.0);
  EXPECT_EQ(a.original_max_position_embeddings, 32);
  EXPECT_EQ(a.num_key_value_heads, 2);
  const std::string v4 = R"({"vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,
    "num_attention_heads":2,"rope_theta":20.0,"rope_scaling":{"type":"su","short_factor":[1,1],"long_factor":[2,3]},
    "original_max_position_embeddings":64})";
  const LlamaConfig b = parse_llama_config(v4, "v4.json");
  EXPECT_EQ(b.rope_scaling.type, "longrope");
  EXPECT_EQ(b.rope_scaling.long_factor, (std::vector<double>{2, 3}));
  EXPECT_EQ(b.original_max_position_embeddings, 64);
  try {
    parse_llama_config(R"({"vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,
      "num_attention_heads":2,"num_key_value_heads":3})", "bad.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad.json: field 'num_key_value_heads'"));
  }
  EXPECT_THROW(parse_llama_config(R"({"hidden_size":8})", "x.json"), std::runtime_error);
  // Zero heads once divided the hidden size (SIGFPE); other model types would run as LLaMA.
  const std::string base = R"({"vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,)";
  EXPECT_THAT([&] { parse_llama_config(base + R"("num_attention_heads":0})", "h.json"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("h.json: field 'num_attention_heads': must be positive, got 0")));
  EXPECT_THAT([&] { parse_llama_config(base + R"("num_attention_heads":2,"model_type":"bert"})", "b.json"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("b.json: field 'model_type': 'bert' is not supported")));
  EXPECT_THAT([&] { parse_llama_config(base + R"("num_attention_heads":2,"rms_norm_eps":-1})", "e.json"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("e.json: field 'rms_norm_eps'")));
}

// Llama 3.1's config (transformers 4.x layout): L is the rope dict's 8192, not max_position_embeddings,
// and --method config applies Llama 3.1's rule on it; the 5.x layout reads the same.
TEST(LlamaConfig, ReadsLlama3InBothLayouts) {
  const std::string head = R"({"vocab_size":10,"hidden_size":256,"intermediate_size":16,"num_hidden_layers":1,
    "num_attention_heads":2,"max_position_embeddings":131072,)";
  const std::string v4 = head + R"("rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0,
    "low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}})";
  const std::string v5 = head + R"("rope_parameters":{"rope_type":"llama3","factor":8.0,"rope_theta":500000.0,
    "low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}})";
  for (const std::string& text : {v4, v5}) {
    const LlamaConfig c = parse_llama_config(text, "llama3.json");
    EXPECT_EQ(c.rope_scaling.type, "llama3");
    EXPECT_EQ(c.original_max_position_embeddings, 8192);
    EXPECT_EQ(c.max_position_embeddings, 131072);
    EXPECT_EQ(c.rope_theta, 500000.0);
    const RopeScaling r = make_rope_scaling(c, RopeMethodSpec{}, 32768);
    EXPECT_EQ(r, rope_llama3({128, 500000.0, 8192}, 8.0, 1.0, 4.0));
    // Written back (convert, init-model), it reads the same.
    const LlamaConfig again = parse_llama_config(llama_config_to_json(c), "again.json");
    EXPECT_EQ(make_rope_scaling(again, RopeMethodSpec{}, 32768), r);
    EXPECT_EQ(again.original_max_position_embeddings, 8192);
  }
  EXPECT_THAT([&] { parse_llama_config(head + R"("rope_scaling":{"rope_type":"llama3","factor":8.0,"high_freq_factor":4.0}})", "l.json"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("l.json: field 'rope_scaling.low_freq_factor': missing")));
  EXPECT_THAT([&] {
    parse_llama_config(head + R"("rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":4.0,"high_freq_factor":1.0}})", "h.json");
  }, ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("h.json: field 'rope_scaling.high_freq_factor': 1 must be above low_freq_factor 4")));
  EXPECT_THAT([&] { parse_llama_config(head + R"("rope_scaling":{"rope_type":"llama4","factor":8.0}})", "t.json"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr(
                  "t.json: field 'rope_scaling.rope_type': 'llama4' is not supported (default, linear, dynamic, yarn, longrope, llama3)")));
}

// Phi-3-mini-128k's shape of config: L at the top level, longrope's short factors up to L and long
// ones beyond (transformers 5.x), partial rotary dims, Phi3Config's defaults where keys are absent.
TEST(LlamaConfig, ReadsPhi3) {
  const std::string head = R"({"model_type":"phi3","architectures":["Phi3ForCausalLM"],"vocab_size":10,"hidden_size":32,
    "intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,"resid_pdrop":0.0,"hidden_act":"silu",)";
  const LlamaConfig plain = parse_llama_config(head + R"("max_position_embeddings":4096})", "p.json");
  EXPECT_EQ(plain.original_max_position_embeddings, 4096);  // Phi3Config's default
  EXPECT_EQ(plain.rms_norm_eps, 1e-5);
  EXPECT_FALSE(plain.attention_bias);
  const std::string longrope = head + R"("max_position_embeddings":131072,"original_max_position_embeddings":4096,
    "partial_rotary_factor":0.5,"sliding_window":262144,"rope_scaling":{"type":"longrope","short_factor":[1,1,1,1],
    "long_factor":[1,2,3,4],"original_max_position_embeddings":999}})";
  const LlamaConfig c = parse_llama_config(longrope, "phi3.json");
  EXPECT_EQ(c.original_max_position_embeddings, 4096);  // the top level wins, as in Phi3Config
  EXPECT_EQ(c.rotary_dim(), 8);
  EXPECT_EQ(c.sliding_window, 262144);
  const RopeScaling at_l = make_rope_scaling(c, RopeMethodSpec{}, 4096);
  const RopeScaling past_l = make_rope_scaling(c, RopeMethodSpec{}, 4097);
  EXPECT_EQ(at_l.lambda, (std::vector<double>{1, 1, 1, 1}));
  EXPECT_EQ(past_l.lambda, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_NEAR(past_l.attention_factor, std::sqrt(1 + std::log(32.0) / std::log(4096.0)), 1e-12);  // s = 131072/4096
  EXPECT_EQ(at_l.attention_factor, past_l.attention_factor);
  const LlamaConfig again = parse_llama_config(llama_config_to_json(c), "again.json");
  EXPECT_EQ(again.model_type, "phi3");
  EXPECT_EQ(again.original_max_position_embeddings, 4096);
  EXPECT_EQ(make_rope_scaling(again, RopeMethodSpec{}, 4097), past_l);
  // A small Phi-3 whose L equals max_position_embeddings keeps it when written back (not 4096).
  LlamaConfig small = plain;
  small.original_max_position_embeddings = small.max_position_embeddings = 64;
  EXPECT_EQ(parse_llama_config(llama_config_to_json(small), "small.json").original_max_position_embeddings, 64);
  // Older Phi-3 configs say "yarn" for their longrope block; Phi3Config reads it as longrope.
  const std::string yarn = head + R"("max_position_embeddings":8192,"original_max_position_embeddings":4096,
    "rope_scaling":{"type":"yarn","short_factor":[1,1,1,1,1,1,1,1],"long_factor":[1,1,1,1,2,2,2,2]}})";
  EXPECT_EQ(parse_llama_config(yarn, "y.json").rope_scaling.type, "longrope");
}

// Where transformers' config classes and the tool could read one config.json two ways: both rope
// blocks present, YaRN's mscale pair, and each family's sliding window.
TEST(LlamaConfig, ReadsWhatTransformersReadsWhereTwoReadingsArePossible) {
  const std::string head = R"({"vocab_size":10,"hidden_size":32,"intermediate_size":16,"num_hidden_layers":2,
    "num_attention_heads":2,"max_position_embeddings":256,)";
  // 5.x takes `rope_scaling or rope_parameters`; 4.x reads rope_scaling only.
  const LlamaConfig both = parse_llama_config(head + R"("rope_scaling":{"rope_type":"linear","factor":4.0},
    "rope_parameters":{"rope_type":"linear","factor":2.0,"rope_theta":10000.0}})", "both.json");
  EXPECT_EQ(both.rope_scaling.factor, 4.0);
  EXPECT_EQ(parse_llama_config(head + R"("rope_scaling":{},"rope_parameters":{"rope_type":"linear","factor":2.0}})", "e.json")
                .rope_scaling.factor, 2.0);  // an empty rope_scaling is falsy
  // YaRN with mscale and mscale_all_dim and no attention_factor: their ratio, kept when written back.
  const LlamaConfig yarn = parse_llama_config(head + R"("rope_scaling":{"rope_type":"yarn","factor":4.0,"mscale":1.0,
    "mscale_all_dim":0.5,"original_max_position_embeddings":64}})", "yarn.json");
  const double ratio = (0.1 * std::log(4.0) + 1) / (0.05 * std::log(4.0) + 1);
  ASSERT_TRUE(yarn.rope_scaling.attention_factor.has_value());
  EXPECT_NEAR(*yarn.rope_scaling.attention_factor, ratio, 1e-12);
  EXPECT_NEAR(make_rope_scaling(yarn, RopeMethodSpec{}, 256).attention_factor, ratio, 1e-12);
  EXPECT_NEAR(*parse_llama_config(llama_config_to_json(yarn), "again.json").rope_scaling.attention_factor, ratio, 1e-12);
  const LlamaConfig one = parse_llama_config(head + R"("rope_scaling":{"rope_type":"yarn","factor":4.0,"mscale":1.0,
    "original_max_position_embeddings":64}})", "one.json");
  EXPECT_FALSE(one.rope_scaling.attention_factor.has_value());  // one of the pair: the default 0.1·ln s + 1
  // Sliding windows: Llama has none; Mistral defaults to 4096; Qwen2 slides only with use_sliding_window,
  // from max_window_layers on.
  const auto window = [&](const std::string& members) { return parse_llama_config(head + members + "}", "w.json").sliding_window; };
  EXPECT_EQ(window(R"("sliding_window":48)"), std::nullopt);
  EXPECT_EQ(window(R"("model_type":"mistral")"), 4096);
  EXPECT_EQ(window(R"("model_type":"mistral","sliding_window":null)"), std::nullopt);
  EXPECT_EQ(window(R"("model_type":"qwen2","sliding_window":48)"), std::nullopt);
  EXPECT_EQ(window(R"("model_type":"qwen2","sliding_window":48,"use_sliding_window":true,"max_window_layers":0)"), 48);
  EXPECT_EQ(window(R"("model_type":"qwen2","sliding_window":48,"use_sliding_window":true,"max_window_layers":2)"), std::nullopt);
  EXPECT_EQ(window(R"("model_type":"qwen2","sliding_window":48,"use_sliding_window":true,
    "layer_types":["sliding_attention","sliding_attention"])"), 48);
  EXPECT_THAT([&] { window(R"("model_type":"qwen2","sliding_window":48,"use_sliding_window":true,"max_window_layers":1)"); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr(
                  "w.json: field 'max_window_layers': a sliding window on 1 of 2 layers is not supported")));
  // Written back, each family reads the same window.
  for (const std::string& members : {std::string(R"("model_type":"mistral","sliding_window":null)"),
                                     std::string(R"("model_type":"qwen2","sliding_window":48,"use_sliding_window":true,"max_window_layers":0)"),
                                     std::string(R"("model_type":"qwen2","sliding_window":48)")}) {
    const LlamaConfig c = parse_llama_config(head + members + "}", "w.json");
    EXPECT_EQ(parse_llama_config(llama_config_to_json(c), "again.json").sliding_window, c.sliding_window) << members;
  }
}

}  // namespace
}  // namespace longrope
