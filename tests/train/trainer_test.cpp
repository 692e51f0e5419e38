// The trainer: gradients through the decoder, loss going down, exact resume, saved model, bad input.
#include "train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "models/checkpoint.h"
#include "formats/safetensors.h"
#include "models/llama_model.h"
#include "tests/test_models.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A tiny model that trains in milliseconds per step.
TrainConfig tiny_train_config() {
  TrainConfig t;
  t.hidden_size = 32;
  t.num_layers = 2;
  t.num_heads = 4;
  t.num_kv_heads = 2;
  t.intermediate_size = 64;
  t.context = 32;
  t.batch_size = 8;
  t.steps = 30;
  t.lr = 1e-2;
  t.min_lr = 1e-3;
  t.warmup_steps = 3;
  t.eval_every = 10;
  t.eval_batches = 2;
  t.checkpoint_every = 0;
  t.seed = 7;
  return t;
}

std::string write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

std::string repetitive_text(int copies) {
  std::string s;
  for (int i = 0; i < copies; ++i) s += "the quick brown fox jumps over the lazy dog. ";
  return s;
}

// Mean next-byte loss of a (B, T+1) batch, with gradients.
at::Tensor loss_of(const LlamaModel& m, const at::Tensor& batch) {
  const int64_t t = batch.size(1) - 1;
  const RopeTable rope = build_rope_table(m.rope_geometry(), rope_none(m.rope_geometry()), t, m.device(), m.dtype());
  at::Tensor logits = m.logits(m.hidden_states(batch.slice(1, 0, t), rope));
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), batch.slice(1, 1, t + 1).reshape({-1}));
}

TEST(Trainer, ChunkedForwardGivesTheSameGradientsAsFull) {
  const LlamaConfig c = tiny_config();
  LlamaWeights w = random_llama_weights(c, 3, LoadOptions{});
  std::vector<at::Tensor> params;
  for_each_weight(c, w, [&](const std::string& name, at::Tensor& slot, const std::vector<int64_t>&, bool) {
    if (slot.defined() && name != "lm_head.weight") params.push_back(slot.requires_grad_(true));
  });
  ASSERT_TRUE(w.lm_head.is_same(w.embed));
  ModelOptions full, chunked;
  full.attention.backend = AttentionBackend::kFull;
  full.mlp_chunk_tokens = 0;
  chunked.attention.backend = AttentionBackend::kChunked;
  chunked.attention.chunk_score_bytes = 2 * 4 * 40 * 8;  // 8 query rows per block
  chunked.mlp_chunk_tokens = 16;
  // Seeded draws and one thread: the same numbers on every run, whatever the machine's core count.
  at::Generator gen = at::detail::createCPUGenerator(17);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor batch = at::randint(0, 256, {2, 41}, gen, at::kLong);
  auto grads = [&](const ModelOptions& o) {
    for (at::Tensor& p : params) p.mutable_grad() = at::Tensor();
    loss_of(LlamaModel(c, w, o), batch).backward();
    std::vector<at::Tensor> g;
    for (const at::Tensor& p : params) g.push_back(p.grad().clone());
    return g;
  };
  const std::vector<at::Tensor> a = grads(full), b = grads(chunked);
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(a[i].defined() && b[i].defined()) << "parameter " << i << " got no gradient";
    EXPECT_GT(a[i].abs().max().item<double>(), 0) << "parameter " << i;
    EXPECT_TRUE(at::allclose(a[i], b[i], 1e-4, 1e-6)) << "parameter " << i;
  }
  // And the gradient is the derivative: a central difference along a seeded random direction agrees.
  // The direction is scaled like the weights (std 0.02), and a step of 1e-2 along it moves each
  // weight by ~1% of its size: small enough for the truncation error (eps² · third derivative), large
  // enough that float32 rounding of the two losses (~1e-7 relative) stays far below their difference.
  c10::AutoGradMode no_grad(false);
  const double eps = 1e-2;
  std::vector<at::Tensor> dir;
  double predicted = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    dir.push_back(0.02 * at::randn(params[i].sizes(), gen, params[i].options().requires_grad(false)));
    predicted += (a[i] * dir[i]).sum().item<double>();
  }
  auto shifted_loss = [&](double by) {
    for (size_t i = 0; i < params.size(); ++i) params[i].add_(dir[i], by);
    const double l = loss_of(LlamaModel(c, w, full), batch).item<double>();
    for (size_t i = 0; i < params.size(); ++i) params[i].add_(dir[i], -by);
    return l;
  };
  const double measured = (shifted_loss(eps) - shifted_loss(-eps)) / (2 * eps);
  at::set_num_threads(threads);
  EXPECT_NEAR(measured, predicted, 0.02 * std::abs(predicted));
}

TEST(Trainer, LearningRateWarmsUpThenDecaysToTheMinimum) {
  TrainConfig t = tiny_train_config();
  t.steps = 100;
  t.warmup_steps = 10;
  EXPECT_DOUBLE_EQ(learning_rate_at(t, 0), t.lr / 10);
  EXPECT_DOUBLE_EQ(learning_rate_at(t, 9), t.lr);
  EXPECT_DOUBLE_EQ(learning_rate_at(t, 10), t.lr);
  EXPECT_NEAR(learning_rate_at(t, 55), (t.lr + t.min_lr) / 2, 1e-12);
  EXPECT_NEAR(learning_rate_at(t, 100), t.min_lr, 1e-12);
}

TEST(Trainer, LossDropsAndTheSavedModelLoads) {
  const fs::path dir = fresh_temp_dir("train-loss");
  const std::string data = write_text(dir / "fox.txt", repetitive_text(300));
  TrainConfig t = tiny_train_config();
  t.command_line = "longrope train --data fox.txt";
  std::vector<std::string> logs;
  const TrainResult r = train_llama(t, {data}, {}, (dir / "out").string(), [&](const TrainProgress& p) {
    if (!p.log.empty()) logs.push_back(p.log);
  });
  ASSERT_EQ(r.loss_history.size(), 30u);
  ASSERT_GE(r.evals.size(), 2u);
  EXPECT_EQ(r.evals.front().step, 0);
  EXPECT_NEAR(r.evals.front().train_loss, std::log(256.0), 0.3);  // near-uniform at init
  EXPECT_LT(r.final_train_loss, 0.5 * r.evals.front().train_loss);
  EXPECT_LT(r.final_valid_loss, 0.5 * r.evals.front().valid_loss);
  EXPECT_EQ(r.tokens_seen, 30 * 8 * 32);
  EXPECT_THAT(logs.back(), HasSubstr("valid"));

  const LlamaModel m = LlamaModel::load((dir / "out").string(), ModelOptions{});
  EXPECT_EQ(m.config().max_position_embeddings, 32);
  EXPECT_EQ(m.config().original_max_position_embeddings, 32);
  EXPECT_FALSE(m.config().bos_token_id.has_value());
  EXPECT_FALSE(m.config().eos_token_id.has_value());
  EXPECT_TRUE(m.config().tie_word_embeddings);
  EXPECT_EQ(m.parameter_count(), r.parameters);
  EXPECT_EQ(m.weights().embed.scalar_type(), at::kFloat);
  // The loaded model scores the text as well as training reported.
  c10::AutoGradMode no_grad(false);
  std::vector<int64_t> bytes;
  for (unsigned char ch : repetitive_text(2).substr(0, 33)) bytes.push_back(ch);
  const at::Tensor batch = at::tensor(bytes, at::kLong).unsqueeze(0);
  EXPECT_LT(loss_of(m, batch).item<double>(), 0.5 * std::log(256.0));

  std::ifstream card(dir / "out" / "README.md");
  const std::string text((std::istreambuf_iterator<char>(card)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("longrope train --data fox.txt"));
  EXPECT_THAT(text, HasSubstr("bits/byte"));
  EXPECT_THAT(text, HasSubstr("fox.txt | 13500 |"));
}

TEST(Trainer, ResumeEndsWithTheSameWeightsAsAnUninterruptedRun) {
  const fs::path dir = fresh_temp_dir("train-resume");
  const std::string data = write_text(dir / "fox.txt", repetitive_text(200));
  const std::string valid = write_text(dir / "valid.txt", repetitive_text(20));
  TrainConfig t = tiny_train_config();
  t.steps = 12;
  t.checkpoint_every = 5;
  const TrainResult whole = train_llama(t, {data}, {valid}, (dir / "whole").string());

  struct Interrupted : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  EXPECT_THROW(train_llama(t, {data}, {valid}, (dir / "split").string(),
                           [](const TrainProgress& p) {
                             if (p.step == 5) throw Interrupted("killed");
                           }),
               Interrupted);
  EXPECT_TRUE(fs::exists(dir / "split" / "train_state" / "optimizer.pt"));
  EXPECT_FALSE(fs::exists(dir / "split" / "model.safetensors"));
  // Without --resume the checkpoint is not overwritten.
  EXPECT_THROW(train_llama(t, {data}, {valid}, (dir / "split").string()), std::runtime_error);

  t.resume = true;
  std::vector<std::string> logs;
  const TrainResult resumed = train_llama(t, {data}, {valid}, (dir / "split").string(), [&](const TrainProgress& p) {
    if (!p.log.empty()) logs.push_back(p.log);
  });
  ASSERT_FALSE(logs.empty());
  EXPECT_THAT(logs.front(), HasSubstr("resumed"));
  EXPECT_EQ(resumed.loss_history, whole.loss_history);
  EXPECT_EQ(resumed.tokens_seen, whole.tokens_seen);
  EXPECT_DOUBLE_EQ(resumed.final_valid_loss, whole.final_valid_loss);

  const LlamaConfig c = load_llama_config((dir / "whole" / "config.json").string());
  LlamaWeights a = load_llama_weights(c, (dir / "whole").string(), LoadOptions{});
  LlamaWeights b = load_llama_weights(c, (dir / "split").string(), LoadOptions{});
  std::vector<at::Tensor> bt;
  for_each_weight(c, b, [&](const std::string&, at::Tensor& slot, const std::vector<int64_t>&, bool) { bt.push_back(slot); });
  size_t i = 0;
  for_each_weight(c, a, [&](const std::string& name, at::Tensor& slot, const std::vector<int64_t>&, bool) {
    const at::Tensor& other = bt[i++];
    if (slot.defined()) EXPECT_TRUE(at::equal(slot, other)) << name;
  });
}

TEST(Trainer, Bf16ComputeKeepsFloat32MasterWeights) {
  const fs::path dir = fresh_temp_dir("train-bf16");
  const std::string data = write_text(dir / "fox.txt", repetitive_text(100));
  TrainConfig t = tiny_train_config();
  t.steps = 15;
  const TrainResult f32 = train_llama(t, {data}, {}, (dir / "f32").string());
  t.dtype = at::kBFloat16;
  const TrainResult bf16 = train_llama(t, {data}, {}, (dir / "bf16").string());
  EXPECT_LT(bf16.final_train_loss, 0.7 * bf16.evals.front().train_loss);
  EXPECT_NEAR(bf16.final_train_loss, f32.final_train_loss, 0.1 * f32.final_train_loss);
  // The saved model is the float32 master copy, whatever the compute dtype.
  const formats::SafetensorsCheckpoint saved = formats::SafetensorsCheckpoint::open((dir / "bf16").string());
  EXPECT_EQ(saved.get("model.embed_tokens.weight").dtype, formats::DType::F32);
}

TEST(Trainer, BadInputFailsWithAClearMessage) {
  const fs::path dir = fresh_temp_dir("train-errors");
  const std::string data = write_text(dir / "fox.txt", repetitive_text(50));
  TrainConfig t = tiny_train_config();
  auto message = [&](const TrainConfig& cfg, const std::vector<std::string>& files) -> std::string {
    try {
      train_llama(cfg, files, {}, (dir / "out").string());
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  };
  TrainConfig bad = t;
  bad.num_heads = 3;
  EXPECT_THAT(message(bad, {data}), HasSubstr("num_heads: 3 does not divide the hidden size 32"));
  bad = t;
  bad.steps = -1;
  EXPECT_THAT(message(bad, {data}), HasSubstr("steps: must be positive"));
  bad = t;
  bad.warmup_steps = 30;
  EXPECT_THAT(message(bad, {data}), HasSubstr("warmup_steps: 30 must be less than the 30 steps"));
  bad = t;
  bad.num_kv_heads = 3;
  EXPECT_THAT(message(bad, {data}), HasSubstr("num_kv_heads: 3 does not divide the 4 query heads"));
  // Each blamed on itself: an infinite decay once turned the loss to NaN and was blamed on the learning rate.
  bad = t;
  bad.weight_decay = std::numeric_limits<double>::infinity();
  EXPECT_THAT(message(bad, {data}), HasSubstr("weight_decay: inf is not a finite number within float's range"));
  bad = t;
  bad.weight_decay = 100;  // × lr 1e-2 = 1: every step would zero the weights
  EXPECT_THAT(message(bad, {data}), HasSubstr("weight_decay: 100 × the learning rate 0.01 is 1, at least 1"));
  bad = t;
  bad.grad_clip = 1e308;  // overflowed inside LibTorch as a float
  EXPECT_THAT(message(bad, {data}), HasSubstr("grad_clip: 1e+308 is not a finite number within float's range"));
  EXPECT_THAT(message(t, {write_text(dir / "weights.txt", std::string("\x93NUMPY\0\0", 8) + repetitive_text(50))}),
              HasSubstr("weights.txt: not a text file (byte 0x93 at offset 0 is not UTF-8): train reads text"));
  EXPECT_THAT(message(t, {(dir / "missing.txt").string()}), HasSubstr("missing.txt: does not exist"));
  fs::create_directories(dir / "empty");
  EXPECT_THAT(message(t, {(dir / "empty").string()}), HasSubstr("no .txt files"));
  EXPECT_THAT(message(t, {write_text(dir / "zero.txt", "")}), HasSubstr("no data"));
  EXPECT_THAT(message(t, {write_text(dir / "short.txt", "too short")}), HasSubstr("fewer than one training window of 33"));
  EXPECT_FALSE(fs::exists(dir / "out" / "model.safetensors"));
}

}  // namespace
}  // namespace longrope
