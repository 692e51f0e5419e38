// What one forward pass of a window holds at its peak, estimated from the model's shape, so that a
// length beyond this machine's memory is refused at once with the estimate, instead of growing for
// minutes without a word (a passkey prompt of 1m tokens).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "models/llama_config.h"

namespace longrope {

struct ForwardShape {
  int64_t tokens = 0;          // window length
  int64_t batch = 1;           // windows per forward
  int64_t dtype_bytes = 4;     // activations' element size
  int64_t logit_positions = 1; // positions whose logits are held at once (a loss chunk; 1 when decoding)
  bool kv_cache = false;       // decoding keeps every layer's keys and values
};

// Bytes at the peak, roughly (a little above what the CPU measures): one layer's activations for every
// position (the residual stream, and the wider of the MLP's three widths and the attention's q, k, v and
// output), the RoPE table (float64 angles and their cos and sin), a block of float32 attention scores
// and its softmax, the logits held at once and, when decoding, every layer's keys and values. The
// weights are not counted: they are loaded already.
int64_t forward_peak_bytes(const LlamaConfig& config, const ForwardShape& shape);

// Training's peak beyond its weights: every layer's activations for `batch` windows of `context`
// tokens kept for the backward (float32), their logits, and the fixed evaluation windows (`eval_rows`
// of each split, as int64 token ids).
int64_t training_activation_bytes(const LlamaConfig& config, int64_t context, int64_t batch);
int64_t evaluation_window_bytes(int64_t context, int64_t eval_rows);

// Throws InvalidSetting when training would not fit the memory available on `device`: "batch" for the
// activations, else "eval_batches" for the evaluation windows beside them.
void require_training_memory(const LlamaConfig& config, int64_t context, int64_t batch, int64_t eval_rows, const std::string& device);

// Bytes of a model's weights in a dtype of `dtype_bytes` (embedding, untied head, every layer's
// projections and norms), from its config alone.
int64_t weight_bytes(const LlamaConfig& config, int64_t dtype_bytes);

// Memory a new allocation can take on `device` without swapping: MemAvailable on the CPU; nullopt
// where it is not known (a GPU: its caching allocator decides).
std::optional<int64_t> available_memory_bytes(const std::string& device);

// Throws std::runtime_error "SOURCE: WHAT take N GB, more than the M GB available on DEVICE" when
// `bytes_per_parameter` for every weight of `config` (4: weights drawn in float32 by init-model or
// --random-weights; 16: training's float32 weights, gradients and AdamW's two moments) would not fit.
void require_weight_memory(const LlamaConfig& config, int64_t bytes_per_parameter, const std::string& device,
                           const std::string& source, const std::string& what);

// Throws InvalidSetting naming `setting` (the option that gave the length) when forward_peak_bytes
// exceeds the memory available on `device`, with both figures.
void require_forward_memory(const LlamaConfig& config, const ForwardShape& shape, const std::string& device,
                            const std::string& setting);

}  // namespace longrope
