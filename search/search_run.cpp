// The search job: plan every target (search_plan.h, nothing written), then search them one by one.
#include "search/search_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "formats/atomic_file.h"
#include "formats/directory_lock.h"
#include "formats/file_write.h"
#include "formats/json_file.h"
#include "models/rope_methods.h"
#include "search/evaluation_journal.h"
#include "search/gradient_phase.h"
#include "search/method_scores.h"
#include "search/perplexity_scorer.h"
#include "search/run_fingerprint.h"
#include "search/run_record.h"
#include "search/search_checkpoint.h"
#include "eval/method_comparison.h"
#include "search/search_report.h"
#include "util/errors.h"
#include "util/paired_bootstrap.h"
#include "util/progress.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace longrope {
namespace {

// A resume may extend a search (more generations), never shorten it: the saved population already
// holds the later generations' children.
void refuse_shortening(int generations, int completed, const fs::path& file) {
  if (completed > generations)
    throw InvalidSetting("generations", fmt::format("{} is fewer than the {} generations {} holds (a resume can extend a "
                                                    "search, not shorten it)", generations, completed, file.string()));
}

// The target's table when it is finished for these settings, generations and held-out set. A resume
// with more generations extends it; with fewer, it is refused; with another held-out set (or a first
// one), the winner and baselines are scored on it.
std::optional<FactorTable> finished_table(const TargetPlan& p, int generations, const std::string& heldout,
                                          const std::string& validation_digest) {
  const fs::path path = p.dir / "table.json";
  if (!fs::exists(path)) return std::nullopt;
  FactorTable table = read_factor_table(path.string());
  if (table.details.contains("checksum")) {
    json unsigned_table = factor_table_to_json(table);
    unsigned_table.erase("checksum");
    if (table.details["checksum"] != text_checksum(unsigned_table.dump())) {
      fmt::print(stderr, "{}: edited since the search wrote it; rebuilding it from the run's state\n", path.string());
      return std::nullopt;
    }
  }
  json settings = table.details.value("settings", json::object());
  if (!settings.contains("model")) settings["model"] = table.model;  // version 1: the path as given
  const RunFingerprint saved = read_fingerprint(settings, settings.value("fingerprint_version", 1), p.fingerprint, path.string());
  const std::string diff = saved.differences(p.fingerprint);
  if (!diff.empty()) throw std::runtime_error(path.string() + ": the run was searched with other settings:" + diff);
  std::optional<int> done;
  if (settings.contains("generations")) done = settings["generations"].get<int>();
  const fs::path state = p.dir / "state.json";  // tables of version 1 may lack the count
  if (!done && fs::exists(state)) done = formats::read_json_file(state.string()).value("completed_generations", generations);
  if (done) refuse_shortening(generations, *done, path);
  if (done && *done != generations) return std::nullopt;
  // A table of this version was chosen on its validation set: another one chooses again. (Version 1
  // tables knew no validation.)
  if (settings.value("fingerprint_version", 1) >= 2 &&
      table.details.value("validation_documents_digest", std::string()) != validation_digest) {
    fmt::print(stderr, "{}: the winner was chosen on other validation windows: choosing again\n", path.string());
    return std::nullopt;
  }
  const std::string saved_heldout = table.details.value("heldout_data", std::string());
  if (saved_heldout != heldout) {
    if (saved_heldout.empty()) fmt::print(stderr, "{}: scoring the winner and baselines on the held-out set {}\n", path.string(), heldout);
    else fmt::print(stderr, "{}: held out on '{}', now on '{}': scoring the new held-out set\n", path.string(), saved_heldout, heldout);
    return std::nullopt;
  }
  return table;
}

// Rewrites generations.jsonl up to `completed` (a resumed run may have logged a generation whose
// state was never saved); a line a kill cut short is dropped.
void trim_generation_log(const fs::path& log, int completed) {
  if (!fs::exists(log)) return;
  std::ifstream in(log);
  std::string line, kept;
  while (std::getline(in, line)) {
    const json r = json::parse(line, nullptr, false);
    if (!r.is_discarded() && r.is_object() && r.value("generation", 1 << 30) <= completed) kept += line + "\n";
  }
  formats::write_file_atomically(log.string(), kept);
}

// The baselines at the target, with their own attention factors. At the original length (the short
// table) each is plain RoPE: "none" alone stands for them.
NamedScalings baseline_scalings(const LlamaConfig& config, const TargetPlan& p) {
  NamedScalings out;
  std::vector<RopeMethod> methods = p.target.is_short ? std::vector<RopeMethod>{RopeMethod::None} : baseline_methods();
  if (config.rope_scaling.type != "default") methods.push_back(RopeMethod::Config);  // the model's own scaling: the one to beat
  for (const RopeMethod m : methods) {
    RopeMethodSpec spec;
    spec.method = m;
    spec.scale = p.target.scale;
    out.push_back({method_name(m), make_rope_scaling(config, spec, p.target.length)});
  }
  return out;
}

json winner_key(const RopeScaling& s) {
  return {{"lambda", s.lambda}, {"start_tokens", s.start_tokens}, {"attention_factor", s.attention_factor}};
}

json documents_key(const TargetPlan& p, const std::string& digest) {
  return {{"model", p.fingerprint.model}, {"documents", digest}, {"target_length", p.target.length}, {"dtype", p.fingerprint.dtype}};
}

// One target's search as it runs: its plan, its evaluators (one per local model) and where it writes.
struct TargetRun {
  const EvaluationSetup& setup;
  const SearchRequest& r;
  const TargetPlan& p;
  std::vector<std::unique_ptr<PerplexityEvaluator>> evaluators;

  const std::string& name() const { return p.target.name; }
  PerplexityEvaluator& evaluator() const { return *evaluators.front(); }
  fs::path file(const char* name) const { return p.dir / name; }
};

// The saved state a resume continues from, its settings checked before any forward; nothing for a
// new search. A state left by another search without --resume is refused.
std::optional<SearchState> saved_state(const TargetRun& t) {
  const fs::path state_file = t.file("state.json"), log_file = t.file("generations.jsonl");
  if (t.r.resume && fs::exists(state_file)) {
    SearchState resume = read_search_state(state_file.string(), t.p.fingerprint);
    refuse_shortening(t.p.evolution.generations, resume.completed_generations, state_file);
    trim_generation_log(log_file, resume.completed_generations);
    fmt::print(stderr, "[{}] resuming after generation {} ({} evaluations)\n", t.name(), resume.completed_generations, resume.evaluations);
    if (t.r.optimizer != Optimizer::Evolution) check_gradient_state(t.p);  // its settings too, before any forward
    return resume;
  }
  if (fs::exists(state_file))
    throw std::runtime_error(state_file.string() + ": a search is already in progress here; resume it or choose another run directory");
  fs::remove(log_file);
  return std::nullopt;
}

// The baselines on the search set (they depend on the documents, not the settings). A model that no
// baseline keeps finite here (far too long a window, 16-bit overflow) cannot rank candidates either:
// say where it breaks instead of searching on infinities.
ScoresByMethod search_baselines(const TargetRun& t) {
  const NamedScalings scalings = baseline_scalings(t.setup.config(), t.p);
  std::string names;
  for (const auto& [name, scaling] : scalings) names += (names.empty() ? "" : ", ") + name;
  fmt::print(stderr, "[{}] baselines {} on {} documents\n", t.name(), names, t.p.documents.size());
  const ScoresByMethod baselines =
      score_scalings(t.evaluator(), t.p.documents, scalings, t.file("baselines.json").string(),
                     documents_key(t.p, t.p.fingerprint.documents), nullptr, t.r.resume, "baselines " + t.name());
  bool any_finite = false;
  for (const auto& [method, score] : baselines) any_finite = any_finite || std::isfinite(score.ppl);
  if (!any_finite)
    throw std::runtime_error(fmt::format("[{}] every baseline's perplexity is infinite or NaN at {} tokens; {}", t.name(), t.p.target.length,
                                         t.evaluator().explain_non_finite(t.p.documents, rope_yarn(t.p.scorer.geometry, t.p.target.scale))));
  return baselines;
}

// The evolution (or the seeds alone, for the gradient), each generation saved and logged as it ends.
SearchState evolve(const TargetRun& t, const std::vector<GroupScorer>& scorers, const std::optional<SearchState>& resume,
                   size_t journal_answers) {
  const EvolutionSearch search(t.p.space, t.p.evolution, t.p.seeds);
  const fs::path state_file = t.file("state.json"), log_file = t.file("generations.jsonl");
  Progress progress("search " + t.name(), static_cast<size_t>(search.planned_evaluations()));
  int64_t evaluations_before = resume ? resume->evaluations : 0;
  progress.skip(static_cast<size_t>(evaluations_before) + journal_answers);
  double best = resume && !resume->population.empty() ? resume->population.front().score : INFINITY;
  int generation = resume ? resume->completed_generations + 1 : 0;
  const BatchObjective objective = make_parallel_objective(scorers, static_cast<size_t>(t.r.batch_candidates),
                                                           [&](size_t scored, size_t, double score) {
    best = std::min(best, score);
    progress.update(static_cast<size_t>(evaluations_before) + scored,
                    fmt::format("gen {}/{} best ppl {:.4f}", generation, t.p.evolution.generations, best));
  });
  SearchState final_state = search.run(objective, resume, [&](const SearchState& s, const GenerationRecord& g) {
    write_search_state(state_file.string(), s, t.p.fingerprint);
    formats::append_to_file(log_file.string(), json{{"generation", g.generation}, {"best_ppl", g.best},
                                                    {"parents_mean_ppl", g.parents_mean}, {"evaluations", g.evaluations},
                                                    {"forwards", g.forwards}, {"raced_out", g.raced_out}, {"elapsed_s", g.seconds},
                                                    {"best", candidate_to_json(g.best_candidate, t.p.space)}}
                                                   .dump() + "\n");
    evaluations_before = s.evaluations;
    generation = g.generation + 1;
    best = g.best;
  });
  progress.finish(fmt::format("best ppl {:.4f}", final_state.population.front().score));
  fmt::print(stderr, "[{}] {} evaluations, {} document forwards ({} without racing), {} raced out, {:.1f} s\n", t.name(),
             final_state.evaluations, final_state.forwards, final_state.evaluations * static_cast<int64_t>(t.p.documents.size()),
             final_state.raced_out, final_state.seconds);
  return final_state;
}

// The winner and what chose it: the best of the top K on the validation windows (on the search
// windows without them). A candidate that won the search by fitting its few windows loses here.
struct Winner {
  const Candidate* candidate = nullptr;
  ScoresByMethod validation, validation_baselines;  // empty without validation windows
  json candidates = json::array();                  // the top K, with both scores
};

Winner choose_winner(const TargetRun& t, const SearchState& final_state) {
  const TargetPlan& p = t.p;
  std::vector<const Candidate*> top;
  for (const Candidate& c : final_state.population)
    if (!c.raced_out && std::isfinite(c.score) && static_cast<int>(top.size()) < (p.validation.empty() ? 1 : t.r.validate_top))
      top.push_back(&c);
  if (top.empty())
    throw std::runtime_error(fmt::format("[{}] no candidate has a finite perplexity; {}", t.name(),
                                         t.evaluator().explain_non_finite(p.documents, genome_scaling(final_state.population.front().genome,
                                                                                                      p.space, p.scorer))));
  Winner w;
  w.candidate = top.front();
  if (p.validation.empty()) return w;
  fmt::print(stderr, "[{}] choosing among the best {} on {} validation windows\n", t.name(), top.size(), p.validation.size());
  NamedScalings scalings = baseline_scalings(t.setup.config(), p);
  for (const Candidate* c : top) scalings.push_back({"candidate " + c->genome.key(), genome_scaling(c->genome, p.space, p.scorer)});
  const ScoresByMethod scored = score_scalings(t.evaluator(), p.validation, scalings, t.file("validation.json").string(),
                                               documents_key(p, documents_digest(p.validation, t.setup.bos())), nullptr, t.r.resume,
                                               "validation " + t.name());
  for (const auto& [method, score] : scored) (method.rfind("candidate ", 0) == 0 ? w.validation : w.validation_baselines)[method] = score;
  for (size_t i = 0; i < top.size(); ++i) {
    const MethodScore& v = w.validation.at("candidate " + top[i]->genome.key());
    w.candidates.push_back({{"search_rank", i + 1}, {"search_ppl", top[i]->score}, {"validation_ppl", v.ppl},
                            {"start_tokens", top[i]->genome.start_tokens}, {"lambda", top[i]->genome.lambda(p.space)}});
    if (v.ppl < w.validation.at("candidate " + w.candidate->genome.key()).ppl) w.candidate = top[i];
  }
  return w;
}

// The settings a finished table records: the fingerprint and what it leaves out.
json table_settings(const TargetRun& t) {
  json settings = t.p.fingerprint.to_json();
  const DataArgs& data = t.setup.data();
  settings["fingerprint_version"] = kRunFileVersion;
  settings["generations"] = t.p.evolution.generations;
  settings["seeds"] = t.p.seed_names;
  settings["windows"] = data.windows;
  settings["skip_tokens"] = data.skip_tokens;
  settings["window_seed"] = data.window_seed ? json(*data.window_seed) : json(nullptr);
  settings["validation"] = t.r.validation.text();
  settings["validate_top"] = t.r.validate_top;
  settings["objective"] = mode_name(kObjectiveNames, t.r.objective);
  return settings;
}

// The winner as a table, with its search and validation scores, intervals and verdict.
FactorTable winner_table(const TargetRun& t, const Winner& w, const RopeScaling& scaling, const SearchState& final_state,
                         const ScoresByMethod& baselines, const std::vector<double>& short_lambda) {
  const RopeGeometry& geometry = t.p.scorer.geometry;
  FactorTable table;
  table.model = t.setup.model_path();
  table.rope_base = geometry.base;
  table.rotary_dim = geometry.rotary_dim;
  table.original_length = geometry.original_length;
  table.target_length = t.p.target.length;
  table.scale = t.p.target.scale;
  table.lambda = scaling.lambda;
  table.start_tokens = scaling.start_tokens;
  table.attention_factor = scaling.attention_factor;
  table.short_lambda = short_lambda;
  const Candidate& winner = *w.candidate;
  table.details = {{"search_ppl", winner.score}, {"search_baselines_ppl", ppl_of(baselines)}, {"search_data", t.setup.data().path},
                   {"search_documents", t.p.documents.size()}, {"search_intervals", intervals_against(winner.document_nll, baselines)},
                   {"settings", table_settings(t)}, {"seed", t.r.evolution.seed},
                   {"evaluations", final_state.evaluations}, {"document_forwards", final_state.forwards},
                   {"raced_out", final_state.raced_out}, {"batch_candidates", t.r.batch_candidates},
                   {"wall_time_s", final_state.seconds}, {"lambda_upper_bound", t.p.space.upper_bound()}};
  // From the model's own scaling, the verdict is against it: the table replaces it or not.
  const std::string against = t.r.from_config ? method_name(RopeMethod::Config) : "";
  json judged = verdict("search", winner.document_nll, baselines, against);
  if (!t.p.validation.empty()) {
    const MethodScore& chosen = w.validation.at("candidate " + winner.genome.key());
    table.details["validation_data"] =
        t.r.validation.is_directory() ? t.r.validation.directory : "auto: later windows of the search documents";
    table.details["validation_documents"] = t.p.validation.size();
    table.details["validation_documents_digest"] = documents_digest(t.p.validation, t.setup.bos());
    table.details["validation_ppl"] = chosen.ppl;
    table.details["validation_baselines_ppl"] = ppl_of(w.validation_baselines);
    table.details["validation_candidates"] = w.candidates;
    table.details["validation_intervals"] = intervals_against(chosen.window_nll, w.validation_baselines);
    judged = verdict("validation", chosen.window_nll, w.validation_baselines, against);
  }
  table.details["verdict"] = judged;
  return table;
}

// The winner and the baselines on the held-out documents, into the table.
void score_heldout(const TargetRun& t, const RopeScaling& scaling, FactorTable& table) {
  if (t.p.heldout.empty()) return;
  fmt::print(stderr, "[{}] held-out evaluation on {} windows of {}\n", t.name(), t.p.heldout.size(), t.r.heldout);
  NamedScalings scalings = baseline_scalings(t.setup.config(), t.p);
  scalings.push_back({"longrope", scaling});
  ScoresByMethod held = score_scalings(t.evaluator(), t.p.heldout, scalings, t.file("heldout.json").string(),
                                       documents_key(t.p, documents_digest(t.p.heldout, t.setup.bos())), winner_key(scaling),
                                       t.r.resume, "held-out " + t.name());
  const std::vector<double> table_nll = held.at("longrope").window_nll;
  table.details["heldout_data"] = t.r.heldout;
  table.details["heldout_documents"] = t.p.heldout.size();
  table.details["heldout_ppl"] = ppl_of(held);
  held.erase("longrope");
  table.details["heldout_intervals"] = intervals_against(table_nll, held);
}

// A deployment's own record: its runtime and serve lengths; with --single-table, the long table as
// the short one too, and what that costs at L/2 and L against plain RoPE (which a short table of
// ones would give there).
void record_deployment(const TargetRun& t, const RopeScaling& scaling, FactorTable& table) {
  if (!t.r.deploy || t.p.target.is_short) return;
  table.details["deploy"] = {{"runtime", mode_name(kRuntimeNames, *t.r.deploy)}, {"serve_lengths", t.p.target.serve_lengths},
                             {"single_table", t.r.single_table}};
  if (!t.r.single_table) return;
  table.short_lambda = table.lambda;
  fmt::print(stderr, "[{}] the single table at L/2 and L: {} windows\n", t.name(), t.p.short_windows.size());
  const NamedScalings scalings = {{"none", rope_none(t.p.scorer.geometry)}, {"longrope", scaling}};
  const ScoresByMethod scored = score_scalings(t.evaluator(), t.p.short_windows, scalings, t.file("single_table.json").string(),
                                               documents_key(t.p, documents_digest(t.p.short_windows, t.setup.bos())), winner_key(scaling),
                                               t.r.resume, "single table " + t.name());
  json cost = json::object();
  for (const int64_t length : {t.p.short_windows.front().window_length, t.p.short_windows.back().window_length}) {
    std::vector<double> table_nll, none_nll;
    for (size_t w = 0; w < t.p.short_windows.size(); ++w) {
      if (t.p.short_windows[w].window_length != length) continue;
      table_nll.push_back(scored.at("longrope").window_nll[w]);
      none_nll.push_back(scored.at("none").window_nll[w]);
    }
    json c = table_nll.size() >= 2 ? relative_change_json(paired_bootstrap(table_nll, none_nll)) : json::object();
    c["windows"] = table_nll.size();
    cost[std::to_string(length)] = c;
  }
  table.details["single_table_cost_vs_none"] = cost;
}

// The CSV first: table.json marks the target finished, and a kill between the two must not leave a
// finished table beside a stale CSV. The checksum lets a resume tell the table it wrote from one
// edited since (which it rebuilds).
void write_target_table(const TargetRun& t, FactorTable& table) {
  write_factor_csv(t.file("result_final.csv").string(), table.lambda);
  table.details.erase("checksum");
  table.details["checksum"] = text_checksum(factor_table_to_json(table).dump());
  write_factor_table(t.file("table.json").string(), table);
}

// What defines the job as a whole: the model's files, the targets and their fingerprints.
RunRecord run_record(const EvaluationSetup& setup, const SearchPlan& plan) {
  RunRecord record;
  record.model = canonical_path(setup.model_path());
  record.model_digest = model_files_digest(setup.model_path());
  for (const TargetPlan& p : plan.targets) {
    record.targets.push_back(p.target.name);
    record.fingerprints[p.target.name] = p.fingerprint;
  }
  return record;
}

FactorTable search_target(const EvaluationSetup& setup, const SearchRequest& r, const TargetPlan& p,
                          const std::vector<std::unique_ptr<LlamaModel>>& models, bool local_candidates,
                          const std::vector<GroupScorer>& remote, const std::vector<double>& short_lambda) {
  fs::create_directories(p.dir);
  TargetRun t{setup, r, p, {}};
  for (const auto& m : models) t.evaluators.push_back(std::make_unique<PerplexityEvaluator>(*m, setup.perplexity_options(p.target.length)));
  const std::optional<SearchState> resume = saved_state(t);
  // Every evaluation is journaled as it lands: a resume skips what was scored inside an unfinished
  // generation too.
  auto journal = std::make_shared<EvaluationJournal>(t.file("evaluations.jsonl").string(), p.fingerprint, r.resume);
  const ScoresByMethod baselines = search_baselines(t);
  size_t unsaved = 0;  // journaled after the last saved generation
  for (const std::string& key : journal->keys()) unsaved += resume && resume->scores.count(key) ? 0 : 1;
  if (unsaved > 0) fmt::print(stderr, "[{}] {} evaluations journaled after the last saved generation are reused\n", t.name(), unsaved);
  std::vector<GroupScorer> scorers;
  if (local_candidates)
    for (auto& evaluator : t.evaluators) scorers.push_back(journaled(make_perplexity_scorer(*evaluator, p.documents, p.space, p.scorer), journal));
  for (const GroupScorer& other : remote) scorers.push_back(journaled(other, journal));
  SearchState final_state = evolve(t, scorers, resume, unsaved);
  json gradient_report;
  if (r.optimizer != Optimizer::Evolution) {
    GradientSettings gradient = r.gradient;
    gradient.loss_chunk = t.evaluator().options().loss_chunk_tokens;
    const BatchObjective snapshots = make_parallel_objective(scorers, static_cast<size_t>(r.batch_candidates));
    gradient_report = run_gradient_phase(r, gradient, p, t.evaluator(), snapshots, final_state);
  }
  const Winner winner = choose_winner(t, final_state);
  const RopeScaling scaling = genome_scaling(winner.candidate->genome, p.space, p.scorer);
  FactorTable table = winner_table(t, winner, scaling, final_state, baselines, short_lambda);
  if (!gradient_report.is_null()) table.details["gradient"] = gradient_report;
  score_heldout(t, scaling, table);
  record_deployment(t, scaling, table);
  fmt::print(stderr, "[{}] {}\n", t.name(), verdict_line(table.details["verdict"]));
  write_target_table(t, table);
  return table;
}

}  // namespace

std::vector<FactorTable> run_search(const EvaluationSetup& setup, const SearchRequest& r) {
  const SearchPlan plan = plan_search(setup, r);
  check_run_directory(setup, r);
  std::vector<std::unique_ptr<LlamaModel>> models;
  for (const std::string& device : r.devices.empty() ? std::vector<std::string>{setup.runtime().device} : r.devices)
    models.push_back(std::make_unique<LlamaModel>(setup.model_on(device)));
  return search_planned(setup, r, plan, models, OtherEvaluators{});
}

std::vector<FactorTable> search_planned(const EvaluationSetup& setup, const SearchRequest& r, const SearchPlan& plan,
                                        const std::vector<std::unique_ptr<LlamaModel>>& models, const OtherEvaluators& others) {
  if (models.empty()) throw std::invalid_argument("a search needs a model in its own process (baselines, validation)");
  if (!others.local_candidates && others.count == 0) throw InvalidSetting("coordinator_only", "leaves no evaluator for candidates");
  fs::create_directories(r.out);
  const formats::DirectoryLock lock = formats::DirectoryLock::acquire(r.out);  // one writer per run directory
  check_and_record_run(r.out, run_record(setup, plan), r.resume);  // a resume of another run writes nothing
  const SearchSettings& e = r.evolution;
  const size_t evaluators = (others.local_candidates ? models.size() : 0) + others.count;
  const std::string gradient = fmt::format(", then {} gradient steps", r.gradient.steps);
  if (r.optimizer == Optimizer::Gradient)
    fmt::print(stderr, "search: {} targets, {} evaluators{}, the seed tables{}, seed {}\n", plan.targets.size(), evaluators,
               others.count ? fmt::format(" ({} on other ranks)", others.count) : "", gradient, e.seed);
  else
    fmt::print(stderr, "search: {} targets, {} evaluators{}, P={} T={} N1={} N2={} top-{}{}, seed {}\n", plan.targets.size(), evaluators,
               others.count ? fmt::format(" ({} on other ranks)", others.count) : "", e.population, e.generations, e.mutants,
               e.crossovers, e.parents, r.optimizer == Optimizer::Both ? gradient : "", e.seed);

  std::vector<FactorTable> tables;
  // The short factors every table keeps: a short search's, else those of the table it starts from (the
  // model's own at L with --from config, an --init-table's own), so that the export keeps what the
  // runtime ran below L.
  std::vector<double> short_lambda;
  if (!plan.targets.empty() && plan.targets.front().init) short_lambda = plan.targets.front().init->short_lambda;
  for (size_t i = 0; i < plan.targets.size(); ++i) {
    const TargetPlan& p = plan.targets[i];
    const std::string validation_digest = p.validation.empty() ? "" : documents_digest(p.validation, setup.bos());
    const std::optional<FactorTable> finished =
        r.resume ? finished_table(p, p.evolution.generations, r.heldout, validation_digest) : std::nullopt;
    std::vector<GroupScorer> remote;
    if (!finished && others.scorers_for) remote = others.scorers_for(i);
    const FactorTable table =
        finished ? *finished : search_target(setup, r, p, models, others.local_candidates, remote, short_lambda);
    if (p.target.is_short) {
      short_lambda = table.lambda;
      fmt::print(stderr, "[{}] short table ppl {:.4f}\n", p.target.name, score_from_json(table.details["search_ppl"]));
    } else {
      tables.push_back(table);
    }
  }
  json summary = json::array();
  for (const FactorTable& t : tables) summary.push_back(factor_table_to_json(t));
  formats::write_file_atomically((fs::path(r.out) / "summary.json").string(), summary.dump(2) + "\n");
  return tables;
}

GroupScorer candidate_scorer(const EvaluationSetup& setup, const TargetPlan& p, const LlamaModel& model) {
  auto evaluator = std::make_shared<PerplexityEvaluator>(model, setup.perplexity_options(p.target.length));
  GroupScorer scorer = make_perplexity_scorer(*evaluator, p.documents, p.space, p.scorer);
  return [evaluator, scorer](const std::vector<Genome>& group, const Cutoff& cutoff) { return scorer(group, cutoff); };
}

std::string search_summary(const std::vector<FactorTable>& tables) {
  std::vector<std::string> columns;  // every baseline, and the model's own scaling where it has one
  for (const RopeMethod m : baseline_methods()) columns.push_back(method_name(m));
  for (const FactorTable& t : tables)
    if (t.details.value("search_baselines_ppl", json::object()).contains("config") && columns.back() != "config") columns.push_back("config");
  std::string out = fmt::format("\n{:<16} {:>8} {:>4} {:>10}", "target", "set", "n̂", "longrope");
  for (const std::string& m : columns) out += fmt::format(" {:>11}", m);
  out += "\n";
  const auto row = [&](const std::string& name, const char* set, int64_t start_tokens, const json& winner, const json& ppl) {
    out += fmt::format("{:<16} {:>8} {:>4} {:>10.4f}", name, set, start_tokens, score_from_json(winner));
    for (const std::string& m : columns) out += fmt::format(" {:>11.4f}", score_from_json(ppl.value(m, json())));
    out += "\n";
  };
  std::string verdicts;
  for (const FactorTable& t : tables) {
    const std::string name = fmt::format("{:g}x ({})", t.scale, t.target_length);
    row(name, "search", t.start_tokens, t.details["search_ppl"], t.details["search_baselines_ppl"]);
    if (t.details.contains("validation_ppl"))
      row("", "valid.", t.start_tokens, t.details["validation_ppl"], t.details["validation_baselines_ppl"]);
    if (t.details.contains("heldout_ppl"))
      row("", "held-out", t.start_tokens, t.details["heldout_ppl"]["longrope"], t.details["heldout_ppl"]);
    if (t.details.contains("verdict")) verdicts += fmt::format("{}: {}\n", name, verdict_line(t.details["verdict"]));
    const json held = t.details.value("heldout_intervals", json::object());
    const std::string best = t.details.contains("verdict") ? t.details["verdict"].value("best_baseline", std::string()) : "";
    if (held.contains(best)) {
      const json& c = held[best];
      verdicts += fmt::format("{}: held out, against {}: {}\n", name, best,
                              format_change({c["change"].get<double>(), c["low"].get<double>(), c["high"].get<double>(), 0, 0}));
    }
  }
  return out + (verdicts.empty() ? "" : "\n" + verdicts);
}

}  // namespace longrope
