// Gradient-refined λ: the window order, the state's round trip, steps that keep λ in its space and
// lower the NLL, a resume equal to an uninterrupted run, and the search's --optimizer gradient.
#include "search/gradient_refinement.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

#include "eval/lambda_gradient.h"
#include "search/monotone_lambda.h"
#include "tests/test_models.h"
#include "util/errors.h"

namespace longrope {
namespace {

TEST(GradientWindow, EveryWindowOncePerPassInAFreshOrder) {
  std::vector<size_t> first, second;
  for (int step = 0; step < 16; ++step) (step < 8 ? first : second).push_back(gradient_window(8, step, 42));
  EXPECT_EQ(std::set<size_t>(first.begin(), first.end()).size(), 8u);
  EXPECT_EQ(std::set<size_t>(second.begin(), second.end()).size(), 8u);
  EXPECT_NE(first, second) << "each pass draws its own order";
  EXPECT_EQ(gradient_window(8, 11, 42), second[3]) << "a step's window depends on the step and seed only";
  EXPECT_THROW(gradient_window(0, 0, 42), std::invalid_argument);
}

// The tiny model (4 pairs, L = 64) at 4x in float64, with an NLL that depends on positions, and two
// windows of 256 tokens.
struct RefinementFixture : ::testing::Test {
  std::optional<LlamaModel> model;
  std::vector<at::Tensor> windows;
  SearchSpace space = SearchSpace::for_scale(4, 4.0, LambdaBound::Paper);
  ScorerSettings scorer;

  void SetUp() override {
    model.emplace(position_sensitive_tiny_model_f64(/*seed=*/21));
    at::Generator gen = at::detail::createCPUGenerator(/*seed=*/3);
    for (int i = 0; i < 2; ++i) windows.push_back(at::randint(0, 256, {256}, gen, at::kLong));
    scorer.geometry = model->rope_geometry();
    scorer.scale = 4.0;
  }
  double mean_nll(const std::vector<double>& lambda) const {
    double sum = 0;
    for (const at::Tensor& tokens : windows)
      sum += lambda_gradient(*model, tokens, rope_longrope(scorer.geometry, lambda, 0, scorer.scale, scorer.attention_factor)).mean_nll;
    return sum / static_cast<double>(windows.size());
  }
};

TEST_F(RefinementFixture, StepsStayInTheSpaceAndLowerTheNll) {
  const Genome start = genome_from_lambda(space, {1.0, 1.5, 3.0, 4.0});
  GradientSettings settings{24, 0.05, 8};
  int snapshots = 0;
  const GradientState s = refine_lambda(*model, windows, space, scorer, start, settings, 7, std::nullopt,
                                        [&](const GradientState&) { ++snapshots; },
                                        [&](const GradientState& now) {
    const std::vector<double> lambda = monotone_lambda(now.u, space.upper_bound());
    for (size_t i = 0; i < lambda.size(); ++i) {
      ASSERT_GE(lambda[i], 1.0);
      ASSERT_LE(lambda[i], space.upper_bound());
      if (i > 0) ASSERT_GE(lambda[i], lambda[i - 1]) << "step " << now.completed_steps;
    }
  });
  EXPECT_EQ(s.completed_steps, 24);
  EXPECT_EQ(snapshots, 3);
  ASSERT_FALSE(s.snapshots.empty());
  for (const Genome& g : s.snapshots) EXPECT_EQ(genome_violation(space, g), std::nullopt) << g.key();
  const double before = mean_nll(start.lambda(space)), after = mean_nll(monotone_lambda(s.u, space.upper_bound()));
  EXPECT_LT(after, before - 1e-3) << "24 steps on two windows left their NLL where it was";
  EXPECT_LT(mean_nll(s.snapshots.back().lambda(space)), before) << "the grid snapshot lost what the steps found";
}

TEST_F(RefinementFixture, AveragedSnapshotIsTheMeanOfItsSteps) {
  const Genome start = genome_from_lambda(space, {1.0, 1.5, 3.0, 4.0});
  GradientSettings settings{3, 0.2, 3};
  settings.average = true;
  std::vector<double> sum(4, 0.0);
  const GradientState s = refine_lambda(*model, windows, space, scorer, start, settings, 7, std::nullopt, [](const GradientState&) {},
                                        [&](const GradientState& now) {
    const std::vector<double> lambda = monotone_lambda(now.u, space.upper_bound());
    for (size_t i = 0; i < 4; ++i) sum[i] += lambda[i] / 3;
  });
  ASSERT_EQ(s.snapshots.size(), 1u);
  EXPECT_EQ(s.snapshots[0], genome_from_lambda(space, sum));
  EXPECT_NE(s.snapshots[0], genome_from_lambda(space, monotone_lambda(s.u, space.upper_bound()))) << "the last step alone is no mean";
}

TEST_F(RefinementFixture, ResumeFromTheSavedStateEqualsOneRun) {
  const Genome start = genome_from_lambda(space, {1.0, 1.5, 3.0, 4.0});
  const auto none = [](const GradientState&) {};
  GradientSettings six{6, 0.05, 2}, four{4, 0.05, 2};
  six.average = four.average = true;
  const GradientState whole = refine_lambda(*model, windows, space, scorer, start, six, 7, std::nullopt, none, none);
  nlohmann::json saved;
  refine_lambda(*model, windows, space, scorer, start, four, 7, std::nullopt,
                [&](const GradientState& s) { saved = s.to_json(); }, none);
  const GradientState resumed = refine_lambda(*model, windows, space, scorer, start, six, 7,
                                              GradientState::from_json(nlohmann::json::parse(saved.dump()), "state"), none, none);
  EXPECT_EQ(resumed.u, whole.u);
  EXPECT_EQ(resumed.step_nll, whole.step_nll);
  ASSERT_EQ(resumed.snapshots.size(), whole.snapshots.size());
  for (size_t i = 0; i < whole.snapshots.size(); ++i) EXPECT_EQ(resumed.snapshots[i], whole.snapshots[i]);
  EXPECT_THROW(GradientState::from_json({{"u", {1.0}}}, "state"), std::runtime_error);
}

TEST(GradientSettings, BadValuesNameTheirSetting) {
  EXPECT_THROW((GradientSettings{0, 0.05, 10}.validate()), InvalidSetting);
  EXPECT_THROW((GradientSettings{10, -1, 10}.validate()), InvalidSetting);
  EXPECT_THROW((GradientSettings{10, 0.05, 0}.validate()), InvalidSetting);
}

}  // namespace
}  // namespace longrope
