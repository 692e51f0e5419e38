// Steps, snapshots, exact scores, and the phase's cost.
#include "search/gradient_phase.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "formats/atomic_file.h"
#include "formats/json_file.h"
#include "search/search_checkpoint.h"
#include "util/progress.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace longrope {
namespace {

// The state is kept only for the run that wrote it (its fingerprint) and only whole (its checksum).
std::optional<GradientState> read_gradient_state(const fs::path& file, const RunFingerprint& fingerprint) {
  if (!fs::exists(file)) return std::nullopt;
  const json j = formats::read_json_file(file.string());
  if (!checksum_matches(j))
    throw std::runtime_error(file.string() + ": checksum mismatch (damaged or edited); remove it to run the gradient steps again");
  const RunFingerprint saved = read_fingerprint(j.at("fingerprint"), kRunFileVersion, fingerprint, file.string());
  const std::string diff = saved.differences(fingerprint);
  if (!diff.empty()) throw std::runtime_error(file.string() + ": the steps were run with other settings:" + diff);
  return GradientState::from_json(j.at("state"), file.string());
}

}  // namespace

json run_gradient_phase(const SearchRequest& r, const TargetPlan& p, const LlamaModel& model, const BatchObjective& objective,
                        SearchState& state) {
  const std::string& name = p.target.name;
  const fs::path state_file = p.dir / "gradient_state.json";
  std::optional<GradientState> resume = r.resume ? read_gradient_state(state_file, p.fingerprint) : std::nullopt;
  if (!r.resume) fs::remove(state_file);
  const Candidate best = state.population.front();
  // A resumed phase keeps the start it saved: the population it came from is the same one.
  fmt::print(stderr, "[{}] {} gradient steps (lr {:g}) from the best so far, ppl {:.4f}{}\n", name, r.gradient.steps,
             r.gradient.learning_rate, best.score, resume ? fmt::format(", resuming after step {}", resume->completed_steps) : "");
  Progress progress("gradient " + name, static_cast<size_t>(r.gradient.steps));
  const GradientState steps = refine_lambda(
      model, p.documents, p.space, p.scorer, best.genome, r.gradient, p.evolution.seed, std::move(resume),
      [&](const GradientState& s) {
        formats::write_file_atomically(state_file.string(),
                                       with_checksum({{"fingerprint", p.fingerprint.to_json()}, {"state", s.to_json()}}).dump() + "\n");
      },
      [&](const GradientState& s) {
        progress.update(static_cast<size_t>(s.completed_steps), fmt::format("window nll {:.4f}", s.step_nll.back()));
      });
  progress.finish(fmt::format("{} snapshots", steps.snapshots.size()));

  // The snapshots, and the last with every n̂ (λ and n̂ interact: the first positions keep their angles).
  std::vector<Genome> candidates = steps.snapshots;
  if (p.space.search_start_tokens && !steps.snapshots.empty())
    for (int64_t n : p.space.start_token_choices) {
      Genome g = steps.snapshots.back();
      g.start_tokens = n;
      candidates.push_back(g);
    }
  std::vector<Genome> fresh;
  for (const Genome& g : candidates) {
    bool seen = state.scores.count(g.key()) > 0;
    for (const Genome& f : fresh) seen = seen || f == g;
    if (!seen) fresh.push_back(g);
  }
  const auto began = std::chrono::steady_clock::now();
  const std::vector<Evaluation> scored = fresh.empty() ? std::vector<Evaluation>{} : objective(fresh, Cutoff{});
  const double scoring_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  json snapshot_ppl = json::array();
  for (size_t i = 0; i < fresh.size(); ++i) {
    state.population.push_back({fresh[i], scored[i].score, scored[i].document_nll, false});
    state.scores[fresh[i].key()] = scored[i].score;
    state.evaluations += 1;
    state.forwards += scored[i].forwards;
    snapshot_ppl.push_back({{"start_tokens", fresh[i].start_tokens}, {"ppl", scored[i].score}, {"lambda", fresh[i].lambda(p.space)}});
  }
  sort_candidates(state.population);
  state.seconds += steps.seconds + scoring_seconds;

  // What the steps cost in forwards of this run (a forward + backward at this length, as measured).
  const double forward_seconds = state.forwards > 0 ? (state.seconds - steps.seconds) / static_cast<double>(state.forwards) : 0;
  json report = {{"optimizer", r.optimizer}, {"settings", r.gradient.to_json()}, {"start", candidate_to_json({steps.start, state.scores.count(steps.start.key()) ? state.scores.at(steps.start.key()) : best.score, {}, false}, p.space)},
                 {"steps", steps.completed_steps}, {"step_nll", steps.step_nll}, {"snapshots", snapshot_ppl},
                 {"steps_seconds", steps.seconds}, {"forward_seconds", forward_seconds}};
  if (forward_seconds > 0) {
    report["step_forward_equivalents"] = steps.seconds / forward_seconds / std::max(1, steps.completed_steps);
    report["forward_equivalents"] = static_cast<double>(state.forwards) + steps.seconds / forward_seconds;
  }
  fmt::print(stderr, "[{}] gradient: {} steps in {:.1f} s, {} new candidates scored, best now ppl {:.4f}\n", name,
             steps.completed_steps, steps.seconds, fresh.size(), state.population.front().score);
  return report;
}

}  // namespace longrope
