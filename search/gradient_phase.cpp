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

fs::path state_path(const TargetPlan& p) { return p.dir / "gradient_state.json"; }

// The state is kept only for the run that wrote it (its fingerprint) and only whole (its checksum).
std::optional<GradientState> read_gradient_state(const TargetPlan& p) {
  const fs::path file = state_path(p);
  if (!fs::exists(file)) return std::nullopt;
  const json j = formats::read_json_file(file.string());
  if (!checksum_matches(j) || !j.contains("fingerprint") || !j.contains("state"))
    throw std::runtime_error(file.string() + ": damaged or edited (checksum); remove it to run the gradient steps again");
  const RunFingerprint saved = read_fingerprint(j["fingerprint"], kRunFileVersion, p.fingerprint, file.string());
  const std::string diff = saved.differences(p.fingerprint);
  if (!diff.empty()) throw std::runtime_error(file.string() + ": the steps were run with other settings:" + diff);
  return GradientState::from_json(j["state"], file.string());
}

}  // namespace

void check_gradient_state(const TargetPlan& p) { read_gradient_state(p); }

json run_gradient_phase(const SearchRequest& r, const GradientSettings& settings, const TargetPlan& p, PerplexityEvaluator& evaluator,
                        const BatchObjective& objective, SearchState& state) {
  const std::string& name = p.target.name;
  const Candidate best = state.population.front();
  std::optional<GradientState> resume = r.resume ? read_gradient_state(p) : std::nullopt;
  // A resume that extended the evolution (more generations) may have a new best: steps from the old
  // one would refine a candidate the run no longer stands on.
  if (resume && !(resume->start == best.genome)) {
    fmt::print(stderr, "[{}] {}: its steps started from another candidate than the search's best now; running them again\n", name,
               state_path(p).string());
    resume.reset();
  }
  if (!resume) fs::remove(state_path(p));
  fmt::print(stderr, "[{}] {} gradient steps (lr {:g}) from the best so far, ppl {:.4f}{}\n", name, settings.steps,
             settings.learning_rate, best.score, resume ? fmt::format(", resuming after step {}", resume->completed_steps) : "");

  std::vector<at::Tensor> windows;  // as the evaluator scores them: BOS first where the model has one
  for (const Document& d : p.documents) windows.push_back(evaluator.window(d));
  Progress progress("gradient " + name, static_cast<size_t>(settings.steps));
  if (resume) progress.skip(static_cast<size_t>(resume->completed_steps));
  const GradientState refined = refine_lambda(
      evaluator.model(), windows, p.space, p.scorer, best.genome, settings, p.evolution.seed, std::move(resume),
      [&](const GradientState& s) {
        const json file = with_checksum({{"fingerprint", p.fingerprint.to_json()}, {"state", s.to_json()}});
        formats::write_file_atomically(state_path(p).string(), file.dump() + "\n");
      },
      [&](const GradientState& s) {
        progress.update(static_cast<size_t>(s.completed_steps), fmt::format("window nll {:.4f}", s.step_nll.back()));
      });
  progress.finish(fmt::format("{} snapshots", refined.snapshots.size()));

  // The snapshots, and the last with every n̂ (λ and n̂ interact: the first positions keep their angles).
  std::vector<Genome> candidates = refined.snapshots;
  if (p.space.search_start_tokens && !refined.snapshots.empty())
    for (int64_t n : p.space.start_token_choices) {
      Genome g = refined.snapshots.back();
      g.start_tokens = n;
      candidates.push_back(g);
    }
  std::vector<Genome> fresh;  // each candidate not scored before, once
  GenomeKeys queued;
  for (const Genome& g : candidates)
    if (state.scores.count(g.key()) == 0 && queued.insert(g.key()).second) fresh.push_back(g);
  const std::vector<Evaluation> scored = fresh.empty() ? std::vector<Evaluation>{} : objective(fresh, Cutoff{});
  for (size_t i = 0; i < fresh.size(); ++i) {
    state.population.push_back({fresh[i], scored[i].score, scored[i].document_nll, false});
    state.scores[fresh[i].key()] = scored[i].score;
    state.evaluations += 1;
    state.forwards += scored[i].forwards;
  }
  sort_candidates(state.population);
  state.seconds += refined.seconds;
  json snapshot_ppl = json::array();
  for (const Genome& g : candidates)
    snapshot_ppl.push_back({{"start_tokens", g.start_tokens}, {"ppl", state.scores.at(g.key())}, {"lambda", g.lambda(p.space)}});

  // One scoring forward on this evaluator, timed now: the unit the steps' cost is counted in.
  const auto began = std::chrono::steady_clock::now();
  evaluator.evaluate({p.documents.front()}, genome_scaling(refined.start, p.space, p.scorer));
  const double forward_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  state.forwards += 1;
  const double steps_equivalents = refined.seconds / forward_seconds;
  const double start_ppl = state.scores.count(refined.start.key()) ? state.scores.at(refined.start.key()) : best.score;
  json report = {{"optimizer", mode_name(kOptimizerNames, r.optimizer)}, {"settings", settings.to_json()}, {"start", candidate_to_json({refined.start, start_ppl, {}, false}, p.space)},
                 {"steps", refined.completed_steps}, {"applied_steps", refined.applied_steps}, {"step_nll", refined.step_nll},
                 {"snapshots", snapshot_ppl}, {"steps_seconds", refined.seconds}, {"forward_seconds", forward_seconds},
                 {"step_forward_equivalents", steps_equivalents / std::max(1, refined.completed_steps)},
                 {"steps_forward_equivalents", steps_equivalents},
                 {"search_forward_equivalents", static_cast<double>(state.forwards) + steps_equivalents}};
  fmt::print(stderr, "[{}] gradient: {} steps in {:.1f} s ({:.1f} forwards each), {} new candidates scored, best now ppl {:.4f}\n", name,
             refined.completed_steps, refined.seconds, steps_equivalents / std::max(1, refined.completed_steps), fresh.size(),
             state.population.front().score);
  return report;
}

}  // namespace longrope
