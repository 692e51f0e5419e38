// train_llama: trains a small byte-level LLaMA from scratch on text files (AdamW, warm-up + cosine
// schedule, resumable checkpoints) and saves a Hugging Face model directory with a model card.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/attention.h"
#include "models/llama_config.h"
#include "rope/rope_scaling.h"

namespace longrope {

struct TrainConfig {
  // Model shape. Tokens are bytes (ids 0..255); a larger vocab_size leaves the extra ids unused.
  int64_t vocab_size = 256;
  int64_t hidden_size = 256;         // C
  int64_t num_layers = 4;
  int64_t num_heads = 4;             // H; head_dim = C / H
  int64_t num_kv_heads = 2;          // KVH, divides H
  int64_t intermediate_size = 0;     // SwiGLU width; 0: 8C/3 rounded up to a multiple of 64
  int64_t context = 256;             // T: tokens per training window; saved as max_position_embeddings
  double rope_theta = 10000.0;

  // Optimisation: AdamW, linear warm-up to `lr`, then cosine decay to `min_lr` at `steps`.
  int64_t batch_size = 16;           // windows per step; a step sees batch_size·context tokens
  int64_t steps = 1000;
  double lr = 1e-3;
  double min_lr = 1e-4;
  int64_t warmup_steps = 100;
  double weight_decay = 0.1;         // on 2-D weights only (projections, embedding)
  double beta1 = 0.9;
  double beta2 = 0.95;
  double grad_clip = 1.0;            // max global gradient norm; 0: no clipping

  // Evaluation and checkpoints.
  int64_t eval_every = 100;          // 0: evaluate only at the start and at the end
  int64_t eval_batches = 8;          // fixed windows: eval_batches·batch_size per split
  int64_t checkpoint_every = 250;    // write out_dir/train_state every N steps; 0: never
  bool resume = false;               // continue from out_dir/train_state

  // Continued training (LongRoPE §3.3's fine-tune at the extended length): start from this model
  // directory's weights (its shape and θ must be this run's), and apply `rope` (a searched table)
  // at every window of `context` tokens. The saved config keeps the pre-training length
  // `original_length` (0: the context) so that tables of the fine-tuned model are ratios of it.
  std::string init_model;
  std::optional<RopeScaling> rope;
  int64_t original_length = 0;
  uint64_t seed = 0;                 // weight init and window sampling

  // Runtime. Master weights and optimizer state stay float32; dtype bf16/f16 runs forward and backward
  // on rounded copies of the weights (mixed precision without autocast).
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;
  AttentionBackend attention = AttentionBackend::kAuto;
  int threads = 0;                   // > 0: at::set_num_threads
  std::string command_line;          // recorded in the model card

  int64_t head_dim() const { return hidden_size / num_heads; }
  int64_t mlp_width() const;         // intermediate_size, or its default
  // Throws InvalidSetting naming the setting (as this struct names it) and the bad value.
  void validate() const;
};

struct TrainEval {
  int64_t step = 0;
  double train_loss = 0;             // mean NLL on fixed training windows, nats/token
  double valid_loss = 0;             // mean NLL on fixed validation windows
};

struct TrainResult {
  double final_train_loss = 0;       // nats/token; bits/byte = nats / ln 2 for a byte vocabulary
  double final_valid_loss = 0;
  int64_t steps = 0;
  int64_t tokens_seen = 0;           // steps·batch·context, across resumed sessions
  double seconds = 0;                // wall time, across resumed sessions
  double tokens_per_second = 0;      // training steps of this session only (no evals, no checkpoints)
  int64_t parameters = 0;
  std::vector<float> loss_history;   // training-batch loss of every step
  std::vector<TrainEval> evals;
};

// What the trainer reports as it goes. Exceptions thrown by the callback propagate out of
// train_llama (the last checkpoint stays valid), which is how tests simulate an interruption.
struct TrainProgress {
  int64_t step = 0;                  // steps done
  int64_t total_steps = 0;
  double loss = 0;                   // the last step's training-batch loss
  double lr = 0;                     // the last step's learning rate
  std::string log;                   // non-empty: a line worth printing (evals, checkpoints, resume)
};
using TrainCallback = std::function<void(const TrainProgress&)>;

// Bytes of the training files (a directory stands for its *.txt files in name order), concatenated.
// Validation uses `valid_files`, or the last 5% of the training bytes when none are given.
// Writes out_dir/config.json, model.safetensors (float32) and README.md; out_dir/train_state/ holds
// the resumable state. Throws std::runtime_error naming the path for missing, empty or too-short data,
// when out_dir/train_state exists without `resume` (it would be overwritten), when out_dir already
// holds a model without `resume`, and when another process is writing out_dir.
TrainResult train_llama(const TrainConfig& config, const std::vector<std::string>& train_files,
                        const std::vector<std::string>& valid_files, const std::string& out_dir,
                        const TrainCallback& callback = {});

// Cosine schedule with linear warm-up: the learning rate of the update at 0-based `step`.
double learning_rate_at(const TrainConfig& config, int64_t step);

// The config.json of the model `config` trains (validated: its sizes are capped).
LlamaConfig trained_model_config(const TrainConfig& config);

}  // namespace longrope
