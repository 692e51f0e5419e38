// The table of rope_table.cpp rebuilt from a λ tensor that autograd follows, then one forward and one
// backward with the weights frozen.
#include "eval/lambda_gradient.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "eval/perplexity.h"
#include "models/rope_table.h"

namespace longrope {

LambdaGradient lambda_gradient(const LlamaModel& model, const at::Tensor& window, const RopeScaling& scaling, int64_t loss_chunk) {
  const RopeGeometry g = model.rope_geometry();
  validate_rope_scaling(g, scaling, "λ gradient");
  c10::AutoGradMode with_gradients(true);
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const int64_t half = g.rotary_dim / 2, length = window.size(0);
  std::vector<double> theta = inverse_frequencies(g, std::vector<double>(static_cast<size_t>(half), 1.0));
  std::vector<double> lambda_values = scaling.lambda;
  const at::Tensor theta_t = at::from_blob(theta.data(), {1, half}, f64).clone();
  const at::Tensor lambda = at::from_blob(lambda_values.data(), {1, half}, f64).clone().requires_grad_(true);
  const at::Tensor positions = at::arange(length, f64).unsqueeze(1);
  const at::Tensor angles = positions * (theta_t / lambda);  // (T, d/2), float64 as the table's
  at::Tensor cos = at::cos(angles) * scaling.attention_factor, sin = at::sin(angles) * scaling.attention_factor;
  const int64_t kept = std::min(scaling.start_tokens, length);
  if (kept > 0) {  // rows below n̂: original angles, no attention factor, no gradient
    const at::Tensor plain = positions.slice(0, 0, kept) * theta_t;
    cos = at::cat({at::cos(plain), cos.slice(0, kept)});
    sin = at::cat({at::sin(plain), sin.slice(0, kept)});
  }
  RopeTable table;
  table.cos = cos.to(model.device(), model.dtype());
  table.sin = sin.to(model.device(), model.dtype());
  table.length = length;

  const at::Tensor tokens = window.to(model.device(), at::kLong).unsqueeze(0);
  const at::Tensor hidden = model.hidden_states(tokens, table);
  const at::Tensor nll = chunked_nll_sum(hidden.slice(1, 0, length - 1), tokens.slice(1, 1, length), model.weights().lm_head,
                                         loss_chunk) / static_cast<double>(length - 1);
  nll.sum().backward();
  LambdaGradient out;
  out.mean_nll = nll.item<double>();
  const at::Tensor grad = lambda.grad().to(at::kCPU).contiguous().view({half});
  out.gradient.assign(grad.data_ptr<double>(), grad.data_ptr<double>() + half);
  return out;
}

}  // namespace longrope
