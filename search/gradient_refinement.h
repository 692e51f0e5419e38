// Gradient-refined λ (issue: search cost). With the weights frozen the NLL is a smooth function of λ
// (the table is a·cos(n·θ_i/λ_i)), so Adam steps on ∂NLL/∂λ move λ where the evolution would need
// many candidates to go. λ is parametrised by search/monotone_lambda, so no step leaves the space's
// bounds or its order; n̂ and the attention factor stay the start's. Every `snapshot_every` steps λ is
// rounded onto the grid and becomes a candidate: the caller scores it exactly, and the validation
// rule, not the gradient's own windows, chooses among them.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "search/genome.h"
#include "search/perplexity_scorer.h"

namespace longrope {

class LlamaModel;

struct GradientSettings {
  int steps = 60;               // Adam steps, one window each
  double learning_rate = 0.05;  // on the softplus parameters u
  int snapshot_every = 10;      // a grid candidate every this many steps (and after the last)
  bool checkpoint_layers = false;  // recompute each layer in the backward (eval/lambda_gradient.h)
  // A snapshot is the mean λ of the steps since the last one (tail averaging: one window per step
  // makes the last iterate noisy), not the last λ. Means of monotone tables in bounds stay so.
  bool average = false;
  int64_t loss_chunk = 2048;    // LM head + loss over blocks of this many positions (the evaluator's)

  void validate() const;  // throws InvalidSetting naming the setting
  nlohmann::json to_json() const;
  // What the snapshots depend on (not checkpointing or the loss chunk, which change no gradient):
  // what a resume must agree with.
  nlohmann::json fingerprint() const;
};

// Everything a resumed refinement needs; saved after every snapshot.
struct GradientState {
  Genome start;                 // where the steps began (its n̂ is kept)
  int completed_steps = 0;
  int applied_steps = 0;        // steps whose gradient was finite (Adam's bias correction counts these)
  std::vector<double> u, m, v;  // parameters and Adam's moments
  std::vector<Genome> snapshots;
  std::vector<double> step_nll;  // the mean NLL of each step's window (before its update)
  std::vector<double> lambda_sum;  // with averaging: Σλ over the steps since the last snapshot
  int averaged_steps = 0;
  double seconds = 0;           // forward + backward + update time, across resumes

  nlohmann::json to_json() const;
  static GradientState from_json(const nlohmann::json& j, const std::string& source);
};

// The window of step k: the search windows in an order drawn afresh (seeded) every pass, so that
// consecutive steps see different text and every window is used equally.
size_t gradient_window(size_t window_count, int step, uint64_t seed);

// Runs the steps from `start` (or from `resume`) on `windows` ((T) int64 token windows at the target
// length, as the evaluator builds them: BOS first where the model has one), calling
// `on_snapshot` with the state after each snapshot (to checkpoint it) and `on_step` after each step.
// The steps move every pair; a snapshot's pairs that the space does not search (below the critical
// dimension) are then set by the space's own rule.
GradientState refine_lambda(const LlamaModel& model, const std::vector<at::Tensor>& windows, const SearchSpace& space,
                            const ScorerSettings& scorer, const Genome& start, const GradientSettings& settings, uint64_t seed,
                            std::optional<GradientState> resume, const std::function<void(const GradientState&)>& on_snapshot,
                            const std::function<void(const GradientState&)>& on_step);

}  // namespace longrope
