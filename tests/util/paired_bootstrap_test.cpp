// The paired bootstrap against cases worked by hand.
#include "util/paired_bootstrap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace longrope {
namespace {

// Two windows with NLL differences d1 < d2: a resample's mean difference is d1, (d1 + d2)/2 or d2 with
// probabilities 1/4, 1/2, 1/4, so the 2.5th and 97.5th percentiles of 2000 resamples are exp(d1) − 1
// and exp(d2) − 1 (hundreds of resamples sit at either end), and the estimate is exp((d1 + d2)/2) − 1.
TEST(PairedBootstrap, TwoWindowsByHand) {
  const std::vector<double> a = {2.0, 3.5}, b = {2.1, 3.3};  // differences −0.1 and +0.2
  const RelativeChange r = paired_bootstrap(a, b);
  EXPECT_NEAR(r.estimate, std::exp(0.05) - 1, 1e-12);
  EXPECT_NEAR(r.low, std::exp(-0.1) - 1, 1e-12);
  EXPECT_NEAR(r.high, std::exp(0.2) - 1, 1e-12);
  EXPECT_EQ(r.a_better, 1);
  EXPECT_EQ(r.windows, 2);
  EXPECT_FALSE(r.a_clearly_lower());
  EXPECT_FALSE(r.a_clearly_higher());
}

TEST(PairedBootstrap, AConstantGainIsItsOwnInterval) {
  const std::vector<double> a = {1.0, 2.0, 3.0, 4.0}, b = {1.1, 2.1, 3.1, 4.1};
  const RelativeChange r = paired_bootstrap(a, b);
  for (double v : {r.estimate, r.low, r.high}) EXPECT_NEAR(v, std::exp(-0.1) - 1, 1e-12);
  EXPECT_EQ(r.a_better, 4);
  EXPECT_TRUE(r.a_clearly_lower());
}

TEST(PairedBootstrap, SeededAndBracketingTheEstimate) {
  std::vector<double> a, b;
  for (int i = 0; i < 64; ++i) {
    a.push_back(2.0 + 0.01 * ((i * 37) % 11));
    b.push_back(2.0 + 0.01 * ((i * 53) % 13));
  }
  const RelativeChange r = paired_bootstrap(a, b), again = paired_bootstrap(a, b);
  EXPECT_EQ(r.low, again.low);
  EXPECT_EQ(r.high, again.high);
  EXPECT_LE(r.low, r.estimate);
  EXPECT_GE(r.high, r.estimate);
  EXPECT_NE(paired_bootstrap(a, b, 2000, 1).low, r.low);  // another seed, other resamples
}

TEST(PairedBootstrap, RefusesUnpairedOrTooFewWindows) {
  EXPECT_THROW(paired_bootstrap({1.0, 2.0}, {1.0}), std::invalid_argument);
  EXPECT_THROW(paired_bootstrap({1.0}, {1.0}), std::invalid_argument);
}

}  // namespace
}  // namespace longrope
