// The table of rope_table.cpp from a λ tensor that autograd follows, then one forward and one backward
// with the weights frozen.
#include "eval/lambda_gradient.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <deque>

#include "eval/perplexity.h"
#include "models/activation_checkpoint.h"
#include "models/rope_table.h"

namespace longrope {

LambdaGradient lambda_gradient(const LlamaModel& model, const at::Tensor& window, const RopeScaling& scaling, int64_t loss_chunk,
                               bool checkpoint_layers) {
  const RopeGeometry g = model.rope_geometry();
  validate_rope_scaling(g, scaling, "λ gradient");
  c10::AutoGradMode with_gradients(true);
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const int64_t half = g.rotary_dim / 2, length = window.size(0);
  std::vector<double> theta = inverse_frequencies(g, std::vector<double>(static_cast<size_t>(half), 1.0));
  std::vector<double> lambda_values = scaling.lambda;
  const at::Tensor theta_t = at::from_blob(theta.data(), {1, half}, f64).clone();
  const at::Tensor lambda = at::from_blob(lambda_values.data(), {1, half}, f64).clone().requires_grad_(true);
  const RopeTable table = rope_table_from_frequencies(theta_t / lambda, theta_t, scaling.start_tokens, scaling.attention_factor,
                                                      length, model.device(), model.dtype());

  const at::Tensor tokens = window.to(model.device(), at::kLong).unsqueeze(0);
  const at::Tensor& head = model.weights().lm_head;
  at::Tensor nll;
  std::deque<Segment> segments;  // called again by the backward below: kept until it has run
  if (!checkpoint_layers) {
    nll = chunked_nll_sum(model.hidden_states(tokens, table).slice(1, 0, length - 1), tokens.slice(1, 1, length), head, loss_chunk);
  } else {
    at::Tensor x = model.embed(tokens);
    for (size_t i = 0; i < model.weights().layers.size(); ++i) {
      segments.emplace_back([&model, i, length](const std::vector<at::Tensor>& in) { return model.layer(in[0], i, {in[1], in[2], length}); });
      x = checkpointed(segments.back(), {x, table.cos, table.sin});
    }
    const at::Tensor hidden = model.final_norm(x);
    nll = at::zeros({1}, hidden.options().dtype(at::kDouble));
    segments.emplace_back([&head, loss_chunk](const std::vector<at::Tensor>& in) { return chunked_nll_sum(in[0], in[1], head, loss_chunk); });
    for (int64_t begin = 0; begin < length - 1; begin += loss_chunk) {
      const int64_t end = std::min(length - 1, begin + loss_chunk);
      nll = nll + checkpointed(segments.back(), {hidden.slice(1, begin, end), tokens.slice(1, begin + 1, end + 1)});
    }
  }
  nll = nll / static_cast<double>(length - 1);
  nll.sum().backward();
  LambdaGradient out;
  out.mean_nll = nll.item<double>();
  const at::Tensor grad = lambda.grad().to(at::kCPU).contiguous().view({half});
  out.gradient.assign(grad.data_ptr<double>(), grad.data_ptr<double>() + half);
  return out;
}

}  // namespace longrope
