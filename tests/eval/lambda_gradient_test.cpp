// ∂NLL/∂λ through the cos/sin table against central differences of the same NLL, in float64.
#include "eval/lambda_gradient.h"
#include "eval/perplexity.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/test_models.h"

namespace longrope {
namespace {

TEST(LambdaGradient, MatchesCentralDifferencesInFloat64) {
  // The tiny model (4 pairs, L = 64) in float64 at 4x (256 tokens), a LongRoPE table with n̂ = 4.
  const LlamaModel m = position_sensitive_tiny_model_f64(/*seed=*/21);
  const RopeGeometry g = m.rope_geometry();
  at::Generator gen = at::detail::createCPUGenerator(/*seed=*/3);  // the same window every run
  const at::Tensor window = at::randint(0, 256, {256}, gen, at::kLong);
  const std::vector<double> lambda = {1.1, 1.7, 2.9, 4.4};
  const auto scaling = [&](const std::vector<double>& l) { return rope_longrope(g, l, 4, 4.0, 1.2); };
  const LambdaGradient at_lambda = lambda_gradient(m, window, scaling(lambda));
  ASSERT_EQ(at_lambda.gradient.size(), 4u);
  double largest = 0;
  for (double x : at_lambda.gradient) largest = std::max(largest, std::abs(x));
  EXPECT_GT(largest, 1e-3) << "a gradient this flat would make the comparison below vacuous";
  // Small steps: pair 0 turns up to 255/λ_0 radians per unit of λ_0, so the third derivative is ~1e7 and
  // a step of 1e-5 would leave a truncation error of ~2e-4; at 1e-7 it is ~2e-8, above float64 noise.
  const double h = 1e-7;
  for (size_t i = 0; i < 4; ++i) {
    std::vector<double> up = lambda, down = lambda;
    up[i] += h;
    down[i] -= h;
    const double numeric = (lambda_gradient(m, window, scaling(up)).mean_nll - lambda_gradient(m, window, scaling(down)).mean_nll) / (2 * h);
    EXPECT_NEAR(at_lambda.gradient[i], numeric, 1e-6 + 1e-5 * std::abs(numeric)) << "pair " << i;
  }
  // With each layer and loss chunk recomputed in the backward: the same gradient (loss chunks of 100
  // tokens, so that the 255 predictions span three checkpointed chunks).
  const LambdaGradient checkpointed = lambda_gradient(m, window, scaling(lambda), 100, /*checkpoint_layers=*/true);
  EXPECT_NEAR(checkpointed.mean_nll, at_lambda.mean_nll, 1e-12);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(checkpointed.gradient[i], at_lambda.gradient[i], 1e-10 * (1 + std::abs(at_lambda.gradient[i])));
  // The NLL is the perplexity evaluator's: the same forward without autograd.
  PerplexityEvaluator ev(m, PerplexityOptions{256, std::nullopt, 2048, 1});
  const double sum = ev.nll_sums(window.unsqueeze(0), ev.table(scaling(lambda)))[0];
  EXPECT_NEAR(at_lambda.mean_nll, sum / 255.0, 1e-9);
}

}  // namespace
}  // namespace longrope
