// longrope search: evolutionary search of λ and n̂ for one or more target lengths in one job,
// reusing the loaded model; resumable; writes a factor table per target.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/data_options.h"
#include "util/progress.h"
#include "cli/runtime_options.h"
#include "eval/perplexity.h"
#include "formats/atomic_file.h"
#include "models/rope_methods.h"
#include "export/factor_table.h"
#include "search/evaluation_journal.h"
#include "search/evolution_search.h"
#include "search/perplexity_scorer.h"
#include "search/search_checkpoint.h"
#include "search/seeds.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

namespace longrope {
namespace {

struct Target {
  std::string name;  // directory name, e.g. "8x-2048" or "short-256"
  int64_t length = 0;
  double scale = 1;
  bool is_short = false;
  std::vector<Document> documents;
  std::vector<Document> heldout;
};

struct SearchJob {
  std::string model_dir, out;
  LlamaConfig config;
  std::optional<int64_t> bos;
  SearchSettings settings;
  std::string bound = "paper";
  double step = 0.01;
  double mutation_probability = 0.3;
  bool search_start_tokens = true;
  std::optional<FactorTable> init_table;
  bool compose = false;
  bool resume = false;
  int64_t loss_chunk = 2048;
  int64_t batch_candidates = 1;       // candidates per batched forward
  std::optional<double> race_margin;  // racing off when unset
};

Target parse_target(const std::string& text, int64_t original) {
  Target t;
  if (!text.empty() && (text.back() == 'x' || text.back() == 'X')) {
    const double s = std::stod(text.substr(0, text.size() - 1));
    t.length = static_cast<int64_t>(std::llround(s * static_cast<double>(original)));
  } else {
    t.length = parse_length(text, "--target");
  }
  t.scale = static_cast<double>(t.length) / static_cast<double>(original);
  if (t.length <= original)
    throw std::invalid_argument(fmt::format("--target {}: {} tokens is not beyond the original length {} (use --short for a "
                                            "search at the original length)", text, t.length, original));
  t.name = fmt::format("{}x-{}", fmt::format("{:g}", t.scale), t.length);
  return t;
}

// FNV-1a over the token ids and the BOS rule: identifies the documents a perplexity was computed
// on, however they were chosen (--docs, --sample-seed, --min-tokens, --tokenizer, --bos …).
std::string documents_digest(const std::vector<Document>& docs, const std::optional<int64_t>& bos) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](int64_t v) {
    for (int byte = 0; byte < 8; ++byte) {
      h ^= static_cast<uint64_t>(v >> (8 * byte)) & 0xffu;
      h *= 1099511628211ull;
    }
  };
  mix(bos ? *bos : -1);
  mix(static_cast<int64_t>(docs.size()));
  for (const Document& d : docs) {
    mix(static_cast<int64_t>(d.tokens.size()));
    for (int32_t token : d.tokens) mix(token);
  }
  return fmt::format("{:016x}", h);
}

// What a run's state depends on. Not the generation count: the search draws nothing from it, so a
// resume with a larger --generations extends a search exactly as if it had been asked for at the start.
json fingerprint(const SearchJob& job, const Target& t, const std::string& data, int64_t docs, const std::string& dtype) {
  const SearchSettings& s = job.settings;
  return {{"model", job.model_dir}, {"data", data}, {"target_length", t.length}, {"docs", docs}, {"dtype", dtype},
          {"documents", documents_digest(t.documents, job.bos)},
          {"population", s.population}, {"mutants", s.mutants},
          {"crossovers", s.crossovers}, {"parents", s.parents}, {"seed", s.seed}, {"bound", job.bound}, {"step", job.step},
          {"mutation_probability", job.mutation_probability}, {"search_start_tokens", job.search_start_tokens && !t.is_short},
          {"init_table", job.init_table ? factor_table_to_json(*job.init_table)["lambda"] : json(nullptr)},
          {"compose", job.compose}, {"race_margin", job.race_margin ? json(*job.race_margin) : json(nullptr)}};
}

// Perplexity of every method in `methods` on `docs` (baselines with their own attention factors;
// "longrope" is `winner`). At 32k+ tokens on a CPU one method takes many minutes, so each result is
// saved to `cache` as it lands and a resumed job skips the methods already there. The cache is keyed
// by the documents; the "longrope" entry also by the winner's table. A file without a key (written
// before keys existed) is trusted only when `legacy_ok`: when the run's state passed its check.
json evaluate_methods(PerplexityEvaluator& ev, const LlamaConfig& config, const std::vector<Document>& docs, int64_t length,
                      double scale, const std::vector<std::string>& methods, const RopeScaling* winner,
                      const fs::path& cache, const json& key, bool resume, bool legacy_ok, const std::string& label) {
  const json winner_key = winner ? json{{"lambda", winner->lambda}, {"start_tokens", winner->start_tokens},
                                        {"attention_factor", winner->attention_factor}}
                                 : json(nullptr);
  json ppl = json::object();
  if (resume && fs::exists(cache)) {
    const json saved = read_json_file(cache.string());
    if (!saved.contains("key") && legacy_ok) {
      ppl = saved;
    } else if (saved.contains("key") && saved["key"] == key) {
      ppl = saved.at("ppl");
      if (ppl.contains("longrope") && saved.value("winner", json()) != winner_key) ppl.erase("longrope");
    } else {
      fmt::print(stderr, "{}: {} was written for other documents; recomputing\n", label, cache.string());
    }
  }
  Progress progress(label, methods.size());
  for (size_t i = 0; i < methods.size(); ++i) {
    const std::string& m = methods[i];
    if (!ppl.contains(m)) {
      RopeMethodSpec spec;
      spec.method = m;
      spec.scale = scale;
      ppl[m] = ev.evaluate(docs, m == "longrope" ? *winner : make_rope_scaling(config, spec, length)).ppl;
      formats::write_file_atomically(cache.string(),
                                     json{{"key", key}, {"winner", winner_key}, {"ppl", ppl}}.dump(2) + "\n");
    }
    progress.update(i + 1, fmt::format("{} {:.4f}", m, ppl[m].is_number() ? ppl[m].get<double>() : NAN));
  }
  progress.finish();
  return ppl;
}

// A resume may extend a search (more generations), never shorten it: the saved population already
// holds the later generations' children.
void refuse_shortening(int generations, int completed, const fs::path& file) {
  if (completed > generations)
    throw std::invalid_argument(fmt::format("--generations {}: {} holds {} completed generations (a resume can extend a "
                                            "search, not shorten it)", generations, file.string(), completed));
}

// Whether `table` is this target's final table for `generations` and `heldout`: a resume with more
// generations extends it; one with fewer is refused; one with another held-out set (or a first one)
// scores the winner and baselines on it. The generation count comes from the table, or from
// state.json for a table that does not record it.
bool finished_with(const fs::path& table, int generations, const json& fp, const std::string& heldout) {
  if (!fs::exists(table)) return false;
  std::optional<int> done;
  const json saved = read_json_file(table.string());
  const json settings = saved.value("settings", json::object());
  std::string diff;  // a finished table answers only for the settings it was searched with
  for (const auto& [k, v] : fp.items())
    if (k != "model" && settings.contains(k) && settings[k] != v)
      diff += fmt::format(" {} (was {}, now {})", k, settings[k].dump(), v.dump());
  if (!diff.empty()) throw std::runtime_error(table.string() + ": the run was searched with other settings:" + diff);
  if (settings.contains("generations")) done = settings["generations"].get<int>();
  const fs::path state = table.parent_path() / "state.json";
  if (!done && fs::exists(state)) done = read_json_file(state.string()).value("completed_generations", generations);
  if (done) refuse_shortening(generations, *done, table);
  if (done && *done != generations) return false;
  const std::string saved_heldout = saved.value("heldout_data", std::string());
  if (saved_heldout != heldout) {
    fmt::print(stderr, "{}: held out on '{}', now '{}': scoring the held-out set\n", table.string(), saved_heldout, heldout);
    return false;
  }
  return true;
}

// Rewrites generations.jsonl up to `completed` (a resumed run may have logged a generation whose
// state was never saved), then appends.
void trim_log(const fs::path& log, int completed) {
  if (!fs::exists(log)) return;
  std::ifstream in(log);
  std::string line, kept;
  while (std::getline(in, line)) {
    const json r = json::parse(line, nullptr, false);  // a line a kill cut short is dropped
    if (!r.is_discarded() && r.is_object() && r.value("generation", 1 << 30) <= completed) kept += line + "\n";
  }
  formats::write_file_atomically(log.string(), kept);
}

FactorTable run_target(const SearchJob& job, Target& t, const std::vector<std::unique_ptr<LlamaModel>>& models,
                       const json& fp, const std::string& data, const std::string& heldout_path, const std::string& dtype,
                       const std::vector<double>& short_lambda) {
  const fs::path dir = fs::path(job.out) / t.name;
  fs::create_directories(dir);
  const RopeGeometry geometry{job.config.rotary_dim(), job.config.rope_theta, job.config.original_max_position_embeddings};
  std::vector<std::unique_ptr<PerplexityEvaluator>> evaluators;
  for (const auto& m : models)
    evaluators.push_back(std::make_unique<PerplexityEvaluator>(*m, PerplexityOptions{t.length, job.bos, job.loss_chunk, 1}));

  // Search space; a progressive search multiplies candidates into the earlier table.
  std::vector<double> base;
  double space_scale = t.scale;
  if (job.init_table && job.compose && !t.is_short) {
    base = job.init_table->lambda;
    if (job.init_table->target_length > 0) space_scale = std::max(1.0, static_cast<double>(t.length) / job.init_table->target_length);
  }
  SearchSpace space = SearchSpace::for_scale(static_cast<size_t>(geometry.rotary_dim / 2), space_scale, job.bound, job.step);
  space.mutation_probability = job.mutation_probability;
  space.search_start_tokens = job.search_start_tokens && !t.is_short;
  std::vector<Genome> seeds;
  json seed_names = json::array();
  if (!base.empty()) {
    seeds.push_back(genome_from_lambda(space, std::vector<double>(base.size(), 1.0)));
    seed_names.push_back("init-table");
  } else {
    if (job.init_table) {
      seeds.push_back(genome_from_lambda(space, job.init_table->lambda, space.search_start_tokens ? job.init_table->start_tokens : 0));
      seed_names.push_back("init-table");
    }
    for (const SeedTable& s : search_seeds(geometry, space_scale)) {
      seeds.push_back(genome_from_lambda(space, s.lambda));
      seed_names.push_back(s.name);
    }
  }
  const EvolutionSearch search(space, job.settings, seeds);
  const ScorerSettings scorer_settings{geometry, t.scale, std::nullopt, base, job.race_margin};

  // A resume checks its settings (`fp`) first, before any forward.
  const json documents_key = {{"model", fp["model"]}, {"documents", fp["documents"]}, {"target_length", t.length},
                              {"dtype", dtype}};
  const fs::path state_file = dir / "state.json", log_file = dir / "generations.jsonl";
  std::optional<SearchState> resume;
  if (job.resume && fs::exists(state_file)) {
    resume = read_search_state(state_file.string(), fp);
    refuse_shortening(job.settings.generations, resume->completed_generations, state_file);
    trim_log(log_file, resume->completed_generations);
    fmt::print(stderr, "[{}] resuming after generation {} ({} evaluations)\n", t.name, resume->completed_generations, resume->evaluations);
  } else if (fs::exists(state_file)) {
    throw std::runtime_error(state_file.string() + ": a search is already in progress here; pass --resume or choose another --out");
  } else {
    fs::remove(log_file);
  }

  // Baselines on the search set, saved per method; they depend on the documents, not the settings.
  fmt::print(stderr, "[{}] baselines {} on {} documents\n", t.name, fmt::join(baseline_methods(), ", "), t.documents.size());
  const json baselines = evaluate_methods(*evaluators[0], job.config, t.documents, t.length, t.scale, baseline_methods(),
                                          nullptr, dir / "baselines.json", documents_key, job.resume, resume.has_value(),
                                          "baselines " + t.name);

  // Every evaluation is journaled as it lands: a resume skips what was scored inside an unfinished
  // generation too.
  auto journal = std::make_shared<EvaluationJournal>((dir / "evaluations.jsonl").string(), fp, job.resume);
  size_t unsaved = 0;  // journaled after the last saved generation
  for (const std::string& key : journal->keys()) unsaved += resume && resume->scores.count(key) ? 0 : 1;
  if (unsaved > 0) fmt::print(stderr, "[{}] {} evaluations journaled after the last saved generation are reused\n", t.name, unsaved);
  std::vector<GroupScorer> scorers;
  for (auto& ev : evaluators)
    scorers.push_back(journaled(make_perplexity_scorer(*ev, t.documents, space, scorer_settings), journal));
  const int64_t planned = search.planned_evaluations();
  Progress progress("search " + t.name, static_cast<size_t>(planned));
  int64_t done_before = resume ? resume->evaluations : 0;
  double best = resume && !resume->population.empty() ? resume->population.front().score : INFINITY;
  int generation = resume ? resume->completed_generations + 1 : 0;
  const BatchObjective objective = make_parallel_objective(scorers, static_cast<size_t>(job.batch_candidates),
                                                           [&](size_t done, size_t, double score) {
    best = std::min(best, score);
    progress.update(static_cast<size_t>(done_before) + done, fmt::format("gen {}/{} best ppl {:.4f}", generation, job.settings.generations, best));
  });
  const SearchState final_state = search.run(objective, resume, [&](const SearchState& s, const GenerationRecord& r) {
    write_search_state(state_file.string(), s, fp);
    std::ofstream(log_file, std::ios::app) << json{{"generation", r.generation}, {"best_ppl", r.best},
                                                   {"parents_mean_ppl", r.parents_mean}, {"evaluations", r.evaluations},
                                                   {"forwards", r.forwards}, {"raced_out", r.raced_out}, {"elapsed_s", r.seconds},
                                                   {"best", candidate_to_json(r.best_candidate, space)}}
                                                  .dump()
                                           << "\n";
    done_before = s.evaluations;
    generation = r.generation + 1;
    best = r.best;
  });
  progress.finish(fmt::format("best ppl {:.4f}", final_state.population.front().score));
  fmt::print(stderr, "[{}] {} evaluations, {} document forwards ({} without racing), {} raced out, {:.1f} s\n", t.name,
             final_state.evaluations, final_state.forwards, final_state.evaluations * static_cast<int64_t>(t.documents.size()),
             final_state.raced_out, final_state.seconds);

  const Candidate& winner = final_state.population.front();
  const RopeScaling scaling = genome_scaling(winner.genome, space, scorer_settings);
  FactorTable table;
  table.model = job.model_dir;
  table.rope_base = geometry.base;
  table.rotary_dim = geometry.rotary_dim;
  table.original_length = geometry.original_length;
  table.target_length = t.length;
  table.scale = t.scale;
  table.lambda = scaling.lambda;
  table.start_tokens = scaling.start_tokens;
  table.attention_factor = scaling.attention_factor;
  table.short_lambda = short_lambda;
  json settings = fp;
  settings.erase("model");
  settings["generations"] = job.settings.generations;
  settings["seeds"] = seed_names;
  table.details = {{"search_ppl", winner.score}, {"search_baselines_ppl", baselines}, {"search_data", data},
                   {"search_documents", t.documents.size()}, {"settings", settings}, {"seed", job.settings.seed},
                   {"evaluations", final_state.evaluations}, {"document_forwards", final_state.forwards},
                   {"raced_out", final_state.raced_out}, {"batch_candidates", job.batch_candidates},
                   {"wall_time_s", final_state.seconds},
                   {"lambda_upper_bound", space.upper_bound()}};
  if (!t.heldout.empty()) {
    fmt::print(stderr, "[{}] held-out evaluation on {} documents of {}\n", t.name, t.heldout.size(), heldout_path);
    std::vector<std::string> methods = baseline_methods();
    methods.push_back("longrope");
    const json heldout_key = {{"model", fp["model"]}, {"documents", documents_digest(t.heldout, job.bos)},
                              {"target_length", t.length}, {"dtype", dtype}};
    const json held = evaluate_methods(*evaluators[0], job.config, t.heldout, t.length, t.scale, methods, &scaling,
                                       dir / "heldout.json", heldout_key, job.resume, false, "held-out " + t.name);
    table.details["heldout_data"] = heldout_path;
    table.details["heldout_documents"] = t.heldout.size();
    table.details["heldout_ppl"] = held;
  }
  // The CSV first: table.json marks the target finished, and a kill between the two must not leave
  // a finished table beside a stale CSV.
  write_factor_csv((dir / "result_final.csv").string(), table.lambda);
  write_factor_table((dir / "table.json").string(), table);
  return table;
}

void print_summary(const std::vector<FactorTable>& tables) {
  fmt::print("\n{:<16} {:>8} {:>4} {:>10}", "target", "set", "n̂", "longrope");
  for (const std::string& m : baseline_methods()) fmt::print(" {:>11}", m);
  fmt::print("\n");
  for (const FactorTable& t : tables) {
    const std::string name = fmt::format("{:g}x ({})", t.scale, t.target_length);
    fmt::print("{:<16} {:>8} {:>4} {:>10.4f}", name, "search", t.start_tokens, score_from_json(t.details["search_ppl"]));
    for (const std::string& m : baseline_methods()) fmt::print(" {:>11.4f}", score_from_json(t.details["search_baselines_ppl"][m]));
    fmt::print("\n");
    if (t.details.contains("heldout_ppl")) {
      const json& h = t.details["heldout_ppl"];
      fmt::print("{:<16} {:>8} {:>4} {:>10.4f}", "", "held-out", t.start_tokens, score_from_json(h["longrope"]));
      for (const std::string& m : baseline_methods()) fmt::print(" {:>11.4f}", score_from_json(h[m]));
      fmt::print("\n");
    }
  }
}

}  // namespace

int search_command(const std::vector<std::string>& args) {
  SearchJob job;
  std::string targets_text, heldout, devices, init_table;
  bool short_search = false;
  double race_margin = std::numeric_limits<double>::quiet_NaN();  // unset: racing off
  RuntimeArgs runtime;
  DataArgs data_args;
  po::options_description o("Search");
  o.add_options()
      ("model", po::value(&job.model_dir)->required(), kModelHelp)
      ("target", po::value(&targets_text)->required(), "target lengths: ratios (8x,16x) or token counts (2048, 32k), comma-separated")
      ("out", po::value(&job.out)->required(), "run directory (one subdirectory per target)")
      ("heldout", po::value(&heldout), "held-out documents: the winner and baselines are reported on them too")
      ("population", po::value(&job.settings.population)->default_value(64), "initial population P")
      ("generations", po::value(&job.settings.generations)->default_value(40), "generations T (with --resume, a larger T extends a finished search)")
      ("mutants", po::value(&job.settings.mutants)->default_value(16), "mutation children per generation N1")
      ("crossovers", po::value(&job.settings.crossovers)->default_value(16), "crossover children per generation N2")
      ("parents", po::value(&job.settings.parents)->default_value(32), "top-k kept and bred from")
      ("mutation-prob", po::value(&job.mutation_probability)->default_value(0.3), "per-gene mutation probability")
      ("seed", po::value(&job.settings.seed)->default_value(42), "random seed (a seed reproduces a run given the same scores)")
      ("bound", po::value(&job.bound)->default_value("paper"), "λ upper bound: paper (1.25·s) or reference (1 + s)")
      ("step", po::value(&job.step)->default_value(0.01), "λ grid step")
      ("search-start-tokens", po::value(&job.search_start_tokens)->default_value(true), "search n̂ (false: n̂ = 0, exportable to every runtime)")
      ("short", po::bool_switch(&short_search), "also search a short table at the original length (Phi-3's short_factor)")
      ("init-table", po::value(&init_table), "seed from an earlier table (.json or .csv)")
      ("compose", po::bool_switch(&job.compose), "with --init-table: search λ2 and evaluate λ1·λ2 (progressive extension)")
      ("resume", po::bool_switch(&job.resume), "continue the run in --out from its last saved generation")
      ("devices", po::value(&devices), "evaluators, one per device (e.g. cuda:0,cuda:1); default: --device")
      ("loss-chunk", po::value(&job.loss_chunk)->default_value(2048), "positions per LM-head/cross-entropy block")
      ("batch-candidates", po::value(&job.batch_candidates)->default_value(1),
       "candidates scored together, one batch row each (same tokens, own cos/sin table): fills a device one candidate leaves idle")
      ("race-margin", po::value(&race_margin),
       "racing (off by default): stop a child after any document but the last once its mean NLL so far exceeds the "
       "worst parent's on the same documents by more than this many nats (e.g. 0.005)");
  o.add(data_options(data_args, "search-set documents (file or directory)")).add(runtime_options(runtime));
  if (!parse_command_line("search", "--model DIR --data PATH --target 8x[,16x] --out RUN [options]", args, o)) return 0;
  job.settings.validate();
  if (job.batch_candidates < 1)
    throw std::invalid_argument(fmt::format("--batch-candidates must be positive, got {}", job.batch_candidates));
  if (!std::isnan(race_margin)) {
    if (!(race_margin >= 0 && std::isfinite(race_margin)))
      throw std::invalid_argument(fmt::format("--race-margin must be a non-negative number of nats, got {}", race_margin));
    job.race_margin = race_margin;
  }
  if (!(job.mutation_probability > 0 && job.mutation_probability <= 1))
    throw std::invalid_argument(fmt::format("--mutation-prob must be in (0, 1], got {}", job.mutation_probability));
  if (job.compose && init_table.empty()) throw std::invalid_argument("--compose needs --init-table");

  // Validate everything before writing anything: model, documents, targets.
  const ModelOptions model_options = make_model_options(runtime);
  std::vector<std::string> device_list = devices.empty() ? std::vector<std::string>{runtime.device} : split_list(devices);
  LlamaModel first = LlamaModel::load(job.model_dir, model_options);
  job.config = first.config();
  job.bos = apply_data_args(data_args, job.config, job.model_dir);
  if (!init_table.empty()) {
    job.init_table = read_factor_table(init_table);
    if (static_cast<int64_t>(job.init_table->lambda.size()) * 2 != job.config.rotary_dim())
      throw std::invalid_argument(fmt::format("{}: has {} factors, the model needs {}", init_table, job.init_table->lambda.size(),
                                              job.config.rotary_dim() / 2));
  }
  const int64_t original = job.config.original_max_position_embeddings;
  std::vector<Target> targets;
  if (short_search) {
    Target s;
    s.name = fmt::format("short-{}", original);
    s.length = original;
    s.is_short = true;
    targets.push_back(s);
  }
  for (const std::string& text : split_list(targets_text)) targets.push_back(parse_target(text, original));
  if (targets.empty()) throw std::invalid_argument("--target is empty");
  const std::vector<Document> all = load_all_documents(data_args, data_args.data);
  std::vector<Document> heldout_all;
  if (!heldout.empty()) heldout_all = load_all_documents(data_args, heldout);
  for (Target& t : targets) {
    t.documents = documents_for_length(data_args, all, data_args.data, t.length, job.bos.has_value());
    if (!heldout.empty()) t.heldout = documents_for_length(data_args, heldout_all, heldout, t.length, job.bos.has_value());
  }
  if (fs::exists(job.out) && !job.resume && !fs::is_empty(job.out))
    throw std::runtime_error(job.out + ": run directory exists and is not empty; pass --resume to continue it");

  std::vector<std::unique_ptr<LlamaModel>> models;
  LlamaConfig config = job.config;
  for (const std::string& d : device_list) {
    ModelOptions mo = model_options;
    mo.load.device = c10::Device(d);
    models.push_back(std::make_unique<LlamaModel>(config, d == runtime.device ? first.weights()
                                                                              : LlamaModel::load(job.model_dir, mo).weights(), mo));
  }
  fs::create_directories(job.out);
  fmt::print(stderr, "search: {} targets, {} evaluators, P={} T={} N1={} N2={} top-{} seed {}\n", targets.size(), models.size(),
             job.settings.population, job.settings.generations, job.settings.mutants, job.settings.crossovers,
             job.settings.parents, job.settings.seed);

  std::vector<FactorTable> tables;
  std::vector<double> short_lambda;
  for (Target& t : targets) {
    const fs::path done = fs::path(job.out) / t.name / "table.json";
    const json fp = fingerprint(job, t, data_args.data, data_args.docs, runtime.dtype);  // hashes every token: once
    const bool finished = job.resume && finished_with(done, job.settings.generations, fp, heldout);
    FactorTable table = finished ? read_factor_table(done.string())
                                 : run_target(job, t, models, fp, data_args.data, heldout, runtime.dtype, short_lambda);
    if (t.is_short) short_lambda = table.lambda;
    else tables.push_back(table);
    if (t.is_short) fmt::print(stderr, "[{}] short table ppl {:.4f}\n", t.name, score_from_json(table.details["search_ppl"]));
  }
  print_summary(tables);
  json summary = json::array();
  for (const FactorTable& t : tables) summary.push_back(factor_table_to_json(t));
  formats::write_file_atomically((fs::path(job.out) / "summary.json").string(), summary.dump(2) + "\n");
  return 0;
}

}  // namespace longrope
