// Adam on the softplus parameters of λ, one search window per step, grid snapshots for exact scoring.
#include "search/gradient_refinement.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <numeric>

#include "eval/lambda_gradient.h"
#include "eval/perplexity.h"
#include "search/monotone_lambda.h"
#include "search/search_checkpoint.h"
#include "util/errors.h"

namespace longrope {

using nlohmann::json;

void GradientSettings::validate() const {
  if (steps < 1) throw InvalidSetting("gradient_steps", fmt::format("must be positive, got {}", steps));
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    throw InvalidSetting("gradient_lr", fmt::format("must be a positive number, got {}", learning_rate));
  if (snapshot_every < 1) throw InvalidSetting("gradient_snapshot_every", fmt::format("must be positive, got {}", snapshot_every));
  if (loss_chunk < 1) throw InvalidSetting("loss_chunk", fmt::format("must be positive, got {}", loss_chunk));
}

json GradientSettings::to_json() const {
  json j = fingerprint();
  j["checkpoint_layers"] = checkpoint_layers;
  j["loss_chunk"] = loss_chunk;
  return j;
}

json GradientSettings::fingerprint() const {
  json j = {{"steps", steps}, {"learning_rate", learning_rate}, {"snapshot_every", snapshot_every}};
  if (average) j["average"] = true;  // absent when off: runs from before averaging keep their fingerprint
  return j;
}

json GradientState::to_json() const {
  json shots = json::array();
  for (const Genome& g : snapshots) shots.push_back(genome_to_json(g));
  return {{"start", genome_to_json(start)}, {"completed_steps", completed_steps}, {"applied_steps", applied_steps}, {"u", u}, {"m", m}, {"v", v},
          {"snapshots", shots}, {"step_nll", step_nll}, {"seconds", seconds}, {"lambda_sum", lambda_sum},
          {"averaged_steps", averaged_steps}};
}

GradientState GradientState::from_json(const json& j, const std::string& source) {
  try {
    GradientState s;
    s.start = genome_from_json(j.at("start"));
    s.completed_steps = j.at("completed_steps").get<int>();
    s.applied_steps = j.value("applied_steps", s.completed_steps);
    s.u = j.at("u").get<std::vector<double>>();
    s.m = j.at("m").get<std::vector<double>>();
    s.v = j.at("v").get<std::vector<double>>();
    for (const json& g : j.at("snapshots")) s.snapshots.push_back(genome_from_json(g));
    for (const json& x : j.at("step_nll")) s.step_nll.push_back(score_from_json(x));
    s.seconds = j.at("seconds").get<double>();
    s.lambda_sum = j.value("lambda_sum", std::vector<double>());
    s.averaged_steps = j.value("averaged_steps", 0);
    if (s.u.size() < 2 || s.m.size() != s.u.size() || s.v.size() != s.u.size() || s.completed_steps < 0)
      throw std::runtime_error("parameters and moments of different lengths");
    if (s.averaged_steps < 0 || (s.averaged_steps > 0 && s.lambda_sum.size() + 1 != s.u.size()))
      throw std::runtime_error("an averaged λ of another length than the parameters");
    return s;
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: not a gradient state ({})", source, e.what()));
  }
}

size_t gradient_window(size_t window_count, int step, uint64_t seed) {
  if (window_count == 0) throw std::invalid_argument("no windows for gradient steps");
  const uint64_t pass = static_cast<uint64_t>(step) / window_count;
  std::vector<size_t> order(window_count);
  std::iota(order.begin(), order.end(), size_t{0});
  SearchRng rng(seed ^ (0x9e3779b97f4a7c15ULL * (pass + 1)));  // a fresh order each pass
  for (size_t i = window_count; i-- > 1;) std::swap(order[i], order[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(i)))]);
  return order[static_cast<size_t>(step) % window_count];
}

GradientState refine_lambda(const LlamaModel& model, const std::vector<at::Tensor>& windows, const SearchSpace& space,
                            const ScorerSettings& scorer, const Genome& start, const GradientSettings& settings, uint64_t seed,
                            std::optional<GradientState> resume, const std::function<void(const GradientState&)>& on_snapshot,
                            const std::function<void(const GradientState&)>& on_step) {
  settings.validate();
  const double lambda_max = space.upper_bound();
  GradientState s;
  if (resume) {
    s = std::move(*resume);
    if (s.u.size() != space.dims + 1)
      throw std::runtime_error(fmt::format("gradient state: parameters for {} rotary pairs, the model has {}", s.u.size() - 1, space.dims));
  } else {
    s.start = start;
    s.u = monotone_lambda_inverse(start.lambda(space), lambda_max);
    s.m.assign(s.u.size(), 0.0);
    s.v.assign(s.u.size(), 0.0);
  }
  const auto snapshot = [&] {
    // On the grid, with the pairs the space does not search set by its rule.
    std::vector<double> lambda = monotone_lambda(s.u, lambda_max);
    if (settings.average && s.averaged_steps > 0) {
      for (size_t i = 0; i < lambda.size(); ++i) lambda[i] = s.lambda_sum[i] / s.averaged_steps;
      s.lambda_sum.assign(lambda.size(), 0.0);
      s.averaged_steps = 0;
    }
    const Genome g = genome_from_lambda(space, lambda, s.start.start_tokens);
    if (s.snapshots.empty() || !(s.snapshots.back() == g)) s.snapshots.push_back(g);
    on_snapshot(s);
  };
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-8;
  while (s.completed_steps < settings.steps) {
    const auto began = std::chrono::steady_clock::now();
    // The evaluated table as the scorer builds it (composed with a base λ in a progressive search).
    std::vector<double> lambda = monotone_lambda(s.u, lambda_max);
    if (!scorer.base_lambda.empty())
      for (size_t i = 0; i < lambda.size(); ++i) lambda[i] *= scorer.base_lambda[i];
    const RopeScaling scaling = rope_longrope(scorer.geometry, lambda, s.start.start_tokens, scorer.scale, scorer.attention_factor);
    const at::Tensor& tokens = windows[gradient_window(windows.size(), s.completed_steps, seed)];
    LambdaGradient g;
    try {
      g = lambda_gradient(model, tokens, scaling, settings.loss_chunk, settings.checkpoint_layers);
    } catch (const c10::Error& e) {
      const std::optional<std::string> line = out_of_memory_line(e.what());
      if (!line) throw;
      throw std::runtime_error(fmt::format("a gradient step at {} tokens does not fit in the memory of {}{}: {}", tokens.size(0),
                                           model.device().str(), settings.checkpoint_layers ? "" : " (try --gradient-checkpoint)", *line));
    }
    if (!scorer.base_lambda.empty())
      for (size_t i = 0; i < g.gradient.size(); ++i) g.gradient[i] *= scorer.base_lambda[i];
    const std::vector<double> grad_u = monotone_lambda_chain(s.u, lambda_max, g.gradient);
    // The chain rule mixes every ∂/∂λ_i into every ∂/∂u_j: one non-finite value spoils the whole step,
    // which then leaves the parameters (and Adam's step count) where they are.
    bool finite = true;
    for (double x : grad_u) finite = finite && std::isfinite(x);
    if (finite) {
      const int t = ++s.applied_steps;
      for (size_t j = 0; j < s.u.size(); ++j) {
        s.m[j] = kBeta1 * s.m[j] + (1 - kBeta1) * grad_u[j];
        s.v[j] = kBeta2 * s.v[j] + (1 - kBeta2) * grad_u[j] * grad_u[j];
        const double m_hat = s.m[j] / (1 - std::pow(kBeta1, t)), v_hat = s.v[j] / (1 - std::pow(kBeta2, t));
        s.u[j] -= settings.learning_rate * m_hat / (std::sqrt(v_hat) + kEpsilon);
      }
    }
    s.step_nll.push_back(g.mean_nll);
    if (settings.average) {
      const std::vector<double> now = monotone_lambda(s.u, lambda_max);
      s.lambda_sum.resize(now.size(), 0.0);
      for (size_t i = 0; i < now.size(); ++i) s.lambda_sum[i] += now[i];
      ++s.averaged_steps;
    }
    s.completed_steps += 1;
    s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    on_step(s);
    if (s.completed_steps % settings.snapshot_every == 0 || s.completed_steps == settings.steps) snapshot();
  }
  return s;
}

}  // namespace longrope
