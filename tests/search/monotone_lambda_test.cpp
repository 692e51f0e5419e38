// The parametrisation of gradient steps: any u gives a non-decreasing λ inside [1, λ_max]; a table
// maps back to a u that reproduces it; the chain rule matches central differences.
#include "search/monotone_lambda.h"

#include <gtest/gtest.h>

#include <cmath>

#include "search/search_rng.h"

namespace longrope {
namespace {

TEST(MonotoneLambda, AnyParametersStayInsideTheBoundsAndInOrder) {
  SearchRng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const double lambda_max = 1.5 + 600 * rng.uniform();
    std::vector<double> u(33);
    const double spread = trial % 3 == 0 ? 200.0 : 8.0;  // also huge and tiny increments
    for (double& x : u) x = spread * (rng.uniform() - 0.5);
    const std::vector<double> lambda = monotone_lambda(u, lambda_max);
    ASSERT_EQ(lambda.size(), 32u);
    for (size_t i = 0; i < lambda.size(); ++i) {
      ASSERT_GE(lambda[i], 1.0) << "trial " << trial;
      ASSERT_LE(lambda[i], lambda_max) << "trial " << trial;
      if (i) ASSERT_GE(lambda[i], lambda[i - 1]) << "trial " << trial << ", pair " << i;
    }
  }
}

TEST(MonotoneLambda, InverseReproducesATable) {
  // A YaRN-shaped table at s = 16 with flat stretches (1 at the start, s at the end).
  std::vector<double> table(32, 16.0);
  for (size_t i = 0; i < 23; ++i) table[i] = 1.0 + i * i * 0.02;
  const double lambda_max = 20.0;
  const std::vector<double> back = monotone_lambda(monotone_lambda_inverse(table, lambda_max), lambda_max);
  // Each zero increment (λ_0 = 1, the flat tail) is floored at 1e-6·(λ_max − 1): at most 33 of them.
  for (size_t i = 0; i < 32; ++i) {
    EXPECT_NEAR(back[i], table[i], 33 * 1e-6 * (lambda_max - 1)) << "pair " << i;
    EXPECT_EQ(std::lround((back[i] - 1) / 0.01), std::lround((table[i] - 1) / 0.01)) << "pair " << i << " leaves its grid point";
  }
}

TEST(MonotoneLambda, ChainRuleMatchesCentralDifferences) {
  SearchRng rng(9);
  std::vector<double> u(9), g(8);
  for (double& x : u) x = 4 * (rng.uniform() - 0.5);
  for (double& x : g) x = rng.uniform() - 0.5;
  const double lambda_max = 10.0;
  const auto f = [&](const std::vector<double>& v) {  // f(λ) = g·λ
    const std::vector<double> l = monotone_lambda(v, lambda_max);
    double s = 0;
    for (size_t i = 0; i < l.size(); ++i) s += g[i] * l[i];
    return s;
  };
  const std::vector<double> analytic = monotone_lambda_chain(u, lambda_max, g);
  for (size_t j = 0; j < u.size(); ++j) {
    std::vector<double> up = u, down = u;
    up[j] += 1e-6;
    down[j] -= 1e-6;
    EXPECT_NEAR(analytic[j], (f(up) - f(down)) / 2e-6, 1e-7) << "parameter " << j;
  }
}

}  // namespace
}  // namespace longrope
