// The gradient of a window's mean NLL with respect to λ. The cos/sin table is a·cos(n·θ_i/λ_i) (rows
// below n̂ keep the original angles), so with the weights frozen, autograd through the table gives
// ∂NLL/∂λ: the first brick of a gradient-refined search (issue: search cost). Float64 models give
// float64 gradients (the checks against central differences run there).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "models/llama_model.h"
#include "rope/rope_scaling.h"

namespace longrope {

struct LambdaGradient {
  double mean_nll = 0;           // over the window's predictions
  std::vector<double> gradient;  // ∂ mean_nll / ∂λ_i, i < d/2
};

// `window`: (T) int64 token ids, all of them predicted from position 1 on. The scaling's λ, n̂ and
// attention factor are those of the table (a fixed attention factor: it does not follow λ).
// `checkpoint_layers`: each layer and each loss chunk recomputed in the backward instead of kept
// (models/activation_checkpoint.h): about one more forward per step, and a peak of one layer's
// activations plus each layer's input instead of every layer's.
LambdaGradient lambda_gradient(const LlamaModel& model, const at::Tensor& window, const RopeScaling& scaling,
                               int64_t loss_chunk = 2048, bool checkpoint_layers = false);

}  // namespace longrope
