// Planning a search job: every target's documents, space, seeds and fingerprint, decided and checked
// before anything is written or any forward runs (every MPI rank plans the same job).
#include "search/search_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <filesystem>

#include "eval/needle.h"
#include "formats/directory_lock.h"
#include "models/rope_methods.h"
#include "search/seeds.h"
#include "tables/table_scaling.h"
#include "util/errors.h"
#include "util/token_count.h"

namespace fs = std::filesystem;

namespace longrope {
namespace {

constexpr int64_t kMinValidationWindows = 8;

}  // namespace

void check_search_request(const SearchRequest& r) {
  r.evolution.validate();
  SearchSpace::for_scale(1, 2.0, r.bound, r.step);  // the step, before any model is loaded
  if (r.batch_candidates < 1) throw InvalidSetting("batch_candidates", fmt::format("must be positive, got {}", r.batch_candidates));
  if (r.race_margin && !(*r.race_margin >= 0 && std::isfinite(*r.race_margin)))
    throw InvalidSetting("race_margin", fmt::format("must be a non-negative number of nats, got {}", *r.race_margin));
  if (!(r.mutation_probability > 0 && r.mutation_probability <= 1))
    throw InvalidSetting("mutation_probability", fmt::format("must be in (0, 1], got {}", r.mutation_probability));
  if (r.compose && r.init_table.empty() && !r.from_config) throw InvalidSetting("compose", "needs an init table or --from config");
  if (r.from_config && !r.init_table.empty()) throw InvalidSetting("from_config", "starts from the model's scaling: --init-table names another");
  if (r.targets.empty() && !r.short_table) throw InvalidSetting("target", "no target given");
  if (r.out.empty()) throw InvalidSetting("out", "no run directory given");
  if (r.validate_top < 1) throw InvalidSetting("validate_top", fmt::format("must be positive, got {}", r.validate_top));
  if (r.validate_top > r.evolution.population)
    throw InvalidSetting("validate_top", fmt::format("{} exceeds the population ({})", r.validate_top, r.evolution.population));
  const bool critical = r.critical_dim.kind != CriticalDim::Kind::None;
  if (!r.deploy && (!r.serve_lengths.empty() || r.single_table))
    throw InvalidSetting("deploy", "--serve-lengths and --single-table shape a search for a deployment: they need --deploy");
  if (r.deploy) {
    if (r.objective != Objective::Perplexity) throw InvalidSetting("deploy", "a deployment is searched by perplexity (the needle objective is not)");
    if (r.search_start_tokens) throw InvalidSetting("search_start_tokens", "no runtime has n̂: a deployment is searched with n̂ = 0");
    if (r.single_table && r.short_table) throw InvalidSetting("single_table", "the single table is the short one too: --short searches another");
    if (*r.deploy == Runtime::VLLM && r.short_table)
      throw InvalidSetting("short_table", "vLLM applies one factor set to every request (long, as --max-model-len exceeds L): a "
                                          "short table would never run; search with --single-table or without --short");
  }
  if (r.optimizer != Optimizer::Evolution) {
    r.gradient.validate();
    if (r.space == SpaceShape::Piecewise)
      throw InvalidSetting("optimizer", "gradient steps move every λ; the piecewise space's α and β are discrete");
    if (critical)
      throw InvalidSetting("optimizer", "gradient steps move every λ; with --critical-dim the pairs below it follow λ_c and are not searched");
    if (r.objective != Objective::Perplexity) throw InvalidSetting("optimizer", "gradient steps follow the perplexity objective only");
  }
  if (r.space == SpaceShape::Piecewise && critical)
    throw InvalidSetting("space", "piecewise and --critical-dim are two smaller spaces: choose one");
}

namespace {

// Where the search starts: the earlier table (progressive search), else PI, NTK, YaRN and the
// YaRN-shaped table, on the grid.
void add_seeds(TargetPlan& p, const std::optional<FactorTable>& init, const std::vector<double>& base, double space_scale,
               const RopeGeometry& geometry, const std::string& init_name) {
  if (!base.empty()) {
    p.seeds.push_back(genome_from_lambda(p.space, std::vector<double>(base.size(), 1.0)));
    p.seed_names.push_back(init_name);
    return;
  }
  if (init) {
    p.seeds.push_back(genome_from_lambda(p.space, init->lambda, p.space.search_start_tokens ? init->start_tokens : 0));
    p.seed_names.push_back(init_name);
    // The seed is the nearest table on the grid: a table off it (a model's own long factors past the
    // bound, or not non-decreasing) is not itself a candidate. Said, so no one reads the search as
    // having scored it; the "config" baseline is still scored exactly.
    const std::vector<double> snapped = p.seeds.back().lambda(p.space);
    size_t worst = 0;
    for (size_t i = 0; i < snapped.size() && i < init->lambda.size(); ++i)
      if (std::abs(snapped[i] - init->lambda[i]) > std::abs(snapped[worst] - init->lambda[worst])) worst = i;
    if (!snapped.empty() && std::abs(snapped[worst] - init->lambda[worst]) > 1e-9)
      fmt::print(stderr, "warning: [{}] the {} seed is the nearest table on the search grid (step {:g}, λ <= {:g}, non-decreasing), "
                 "not the table itself: λ_{} {:g} became {:g}\n", p.target.name, init_name, p.space.step, p.space.upper_bound(), worst,
                 init->lambda[worst], snapped[worst]);
  }
  for (const SeedTable& s : search_seeds(geometry, space_scale)) {
    p.seeds.push_back(genome_from_lambda(p.space, s.lambda));
    p.seed_names.push_back(s.name);
  }
}

// --critical-dim as a pair index (0: off). auto-K is K pairs below the theoretical value, so that a
// benchmark can place the cut relative to each model's geometry rather than at a fixed index.
size_t critical_dim_for(const CriticalDim& choice, const RopeGeometry& geometry) {
  const int64_t half = geometry.rotary_dim / 2;
  if (choice.kind == CriticalDim::Kind::None) return 0;
  const bool automatic = choice.kind != CriticalDim::Kind::Index;
  int64_t c = automatic ? critical_dimension(geometry) : choice.value;
  if (automatic && (c == 0 || c >= half)) {
    fmt::print(stderr, "warning: --critical-dim {}: {} at L = {}, θ = {:g}: every pair is searched\n", choice.text(),
               c == 0 ? "no pair completes a period" : "every pair completes a period", geometry.original_length, geometry.base);
    return 0;
  }
  if (choice.kind == CriticalDim::Kind::BelowAuto) {
    if (choice.value >= c)
      throw InvalidSetting("critical_dim", fmt::format("{}: the theoretical value is {}, which leaves no pair {} below it", choice.text(), c,
                                                       choice.value));
    c -= choice.value;
  }
  if (c >= half)
    throw InvalidSetting("critical_dim", fmt::format("{} is not below d/2 = {} (this model has {} rotary pairs)", c, half, half));
  return static_cast<size_t>(c);
}

// The model's own scaling at a target as a table: its λ there (Phi-3's long factors beyond L), its
// attention factor, and its scaling at L as the short factors (which the exports keep).
FactorTable config_table(const LlamaConfig& c, const SearchTarget& target) {
  RopeMethodSpec own;
  own.method = RopeMethod::Config;
  const RopeScaling at_target = make_rope_scaling(c, own, target.is_short ? c.original_max_position_embeddings : target.length);
  FactorTable t;
  t.model = "config";
  t.rope_base = c.rope_theta;
  t.rotary_dim = c.rotary_dim();
  t.original_length = c.original_max_position_embeddings;
  t.target_length = std::max(c.max_position_embeddings, c.original_max_position_embeddings + 1);
  t.scale = static_cast<double>(t.target_length) / static_cast<double>(t.original_length);
  t.lambda = at_target.lambda;
  t.attention_factor = at_target.attention_factor;
  t.short_lambda = make_rope_scaling(c, own, c.original_max_position_embeddings).lambda;
  return t;
}

// s of a deployment: its largest target (the short table runs under that table's attention factor).
double deployed_scale(const SearchRequest& r, int64_t original) {
  double s = 1;
  for (const std::string& t : r.targets) s = std::max(s, parse_search_target(t, original).scale);
  return s;
}

// The windows `select(length)` gives at each length a target is scored at, in order: at its own
// length, or at each serve length of a deployment (each window marked with its length).
std::vector<Document> at_each_length(const SearchTarget& target, const std::function<std::vector<Document>(int64_t)>& select) {
  if (target.serve_lengths.empty()) return select(target.length);
  std::vector<Document> out;
  for (const int64_t length : target.serve_lengths)
    for (Document d : select(length)) {
      d.window_length = length;
      out.push_back(std::move(d));
    }
  return out;
}

// The target's windows: search, validation (as --validation says) and held-out; needle windows for
// the needle objective.
void select_target_windows(const EvaluationSetup& setup, const SearchRequest& r, const std::vector<Document>& all,
                           const std::vector<Document>& validation_all, const std::vector<Document>& heldout_all, TargetPlan& p) {
  const SearchTarget& target = p.target;
  p.documents = at_each_length(target, [&](int64_t length) { return setup.documents_for_length(all, setup.data().path, length); });
  if (!r.heldout.empty())
    p.heldout = at_each_length(target, [&](int64_t length) { return setup.documents_for_length(heldout_all, r.heldout, length); });
  if (r.validation.kind == ValidationChoice::Kind::Auto && !target.is_short) {
    // As many windows per document as the search scores, and 8 at least in all: fewer give no interval
    // worth the name.
    const std::vector<Document> first = setup.documents_for_length(all, setup.data().path, target.length);
    const auto docs = static_cast<int64_t>(setup.data().first_windows_only() ? first.size()
                                                                             : std::max<size_t>(1, first.size() / setup.data().windows));
    const int64_t per_document = std::max(setup.data().windows, (kMinValidationWindows + docs - 1) / std::max<int64_t>(docs, 1));
    p.validation = at_each_length(target, [&](int64_t length) { return setup.later_windows(all, setup.data().path, length, per_document); });
    if (p.validation.size() < 2)
      fmt::print(stderr, "warning: [{}] the search documents hold {} windows beyond the search's: the winner is chosen on "
                         "the search windows (give a validation directory)\n", target.name, p.validation.size());
    if (p.validation.size() < 2) p.validation.clear();
  } else if (r.validation.is_directory() && !target.is_short) {
    p.validation = at_each_length(
        target, [&](int64_t length) { return setup.documents_for_length(validation_all, r.validation.directory, length); });
  }
  if (r.single_table && !target.is_short) {  // the held-out documents, else the search documents, at L/2 and L
    const std::vector<Document>& source = r.heldout.empty() ? all : heldout_all;
    const std::string& name = r.heldout.empty() ? setup.data().path : r.heldout;
    const int64_t original = setup.config().original_max_position_embeddings;
    SearchTarget at_short = target;
    at_short.serve_lengths = {std::max<int64_t>(2, original / 2), original};
    p.short_windows = at_each_length(at_short, [&](int64_t length) { return setup.documents_for_length(source, name, length); });
  }
  if (r.objective == Objective::Needle) {  // the same windows, each with a needle whose answer alone is scored
    const auto windows = [&](const std::vector<Document>& docs) {
      return setup.data().first_windows_only() ? select_windows(docs, setup.window_tokens(target.length), WindowSelection{}) : docs;
    };
    p.documents = needle_documents(setup, windows(p.documents), r.evolution.seed);
    if (!p.validation.empty()) p.validation = needle_documents(setup, windows(p.validation), r.evolution.seed + 1);
  }
}

// What the run's saved scores depend on: compared by every resume.
RunFingerprint target_fingerprint(const EvaluationSetup& setup, const SearchRequest& r, const TargetPlan& p,
                                  const std::optional<FactorTable>& init) {
  RunFingerprint f;
  const SearchSettings& e = p.evolution;
  f.model = canonical_path(setup.model_path());  // run files are read again from other directories
  f.data = setup.data().path;
  f.documents = documents_digest(p.documents, setup.bos());  // hashes every token: once
  f.target_length = p.target.length;
  f.docs = setup.data().docs;
  f.dtype = setup.runtime().dtype;
  f.population = e.population;
  f.mutants = e.mutants;
  f.crossovers = e.crossovers;
  f.parents = e.parents;
  f.seed = e.seed;
  f.bound = mode_name(kLambdaBoundNames, r.bound);
  f.step = r.step;
  f.mutation_probability = r.mutation_probability;
  f.search_start_tokens = p.space.search_start_tokens;
  f.critical_dim = static_cast<int64_t>(p.space.critical_dim);
  f.space = mode_name(kSpaceShapeNames, r.space);
  if (init) f.init_table = init->lambda;
  f.compose = r.compose;
  f.race_margin = r.race_margin;
  f.optimizer = mode_name(kOptimizerNames, r.optimizer);
  if (r.optimizer != Optimizer::Evolution) f.gradient = r.gradient.fingerprint();
  if (r.deploy) f.deploy = mode_name(kRuntimeNames, *r.deploy);
  f.serve_lengths = p.target.serve_lengths;
  f.objective = mode_name(kObjectiveNames, r.objective);
  if (r.validation.kind == ValidationChoice::Kind::None) f.validation = "none";
  if (r.validation.is_directory()) f.validation = "directory " + documents_digest(p.validation, setup.bos());  // its windows, not its path
  f.validate_top = r.validate_top;
  f.single_table = r.single_table;
  f.sliding_window = setup.runtime().sliding_window;
  return f;
}

TargetPlan plan_target(const EvaluationSetup& setup, const SearchRequest& r, const SearchTarget& target,
                       const std::vector<Document>& all, const std::vector<Document>& validation_all,
                       const std::vector<Document>& heldout_all, const std::optional<FactorTable>& init) {
  const RopeGeometry geometry = setup.config().rope_geometry();
  TargetPlan p;
  p.target = target;
  p.init = init;
  p.dir = fs::path(r.out) / target.name;
  select_target_windows(setup, r, all, validation_all, heldout_all, p);
  // A progressive search multiplies candidates into the earlier table and searches the rest of the way.
  std::vector<double> base;
  double space_scale = target.scale;
  if (init && r.compose && !target.is_short) {
    base = init->lambda;
    if (init->target_length > 0) space_scale = std::max(1.0, static_cast<double>(target.length) / static_cast<double>(init->target_length));
  }
  p.space = SearchSpace::for_scale(static_cast<size_t>(geometry.rotary_dim / 2), space_scale, r.bound, r.step);
  p.space.mutation_probability = r.mutation_probability;
  p.space.search_start_tokens = r.search_start_tokens && !target.is_short && !r.deploy;
  // n̂ at or past the target length rescales no position a window holds: no table at all, and one its
  // reader refuses (tables/factor_table.cpp bounds n̂ by the target length). Only a target shorter than
  // the paper's largest n̂ (256) loses choices.
  std::vector<int64_t>& n_choices = p.space.start_token_choices;
  n_choices.erase(std::remove_if(n_choices.begin(), n_choices.end(), [&](int64_t n) { return n > target.length; }), n_choices.end());
  p.space.critical_dim = critical_dim_for(r.critical_dim, geometry);
  if (r.space == SpaceShape::Piecewise) {
    p.space.piecewise = true;
    p.space.piece_top = std::min(p.space.max_grid_index, static_cast<int32_t>(std::lround((space_scale - 1.0) / r.step)));
  }
  add_seeds(p, init, base, space_scale, geometry, r.from_config ? "config" : "init-table");
  // Fewer places than seeds would leave PI, NTK or YaRN out of the search and the winner could lose to them.
  if (r.evolution.population < static_cast<int>(p.seeds.size()))
    throw InvalidSetting("population", fmt::format("{} cannot hold the {} seed tables ({})", r.evolution.population, p.seeds.size(),
                                                   p.seed_names.dump()));
  p.scorer = ScorerSettings{geometry, target.scale, std::nullopt, base, r.race_margin};
  // From the model's own scaling: candidates keep its attention factor, so that it is itself a candidate.
  if (r.from_config && init) p.scorer.attention_factor = init->attention_factor;
  // A runtime applies the long table's attention factor to the short factors too: search them under it.
  if (r.deploy && target.is_short)
    p.scorer.attention_factor = longrope_attention_factor(deployed_scale(r, geometry.original_length), geometry.original_length);
  p.evolution = r.evolution;
  if (r.optimizer == Optimizer::Gradient) {  // the seeds, scored once: the steps start from the best of them
    p.evolution.population = static_cast<int>(p.seeds.size());
    p.evolution.parents = std::min(p.evolution.parents, p.evolution.population);
    p.evolution.generations = 0;
  }
  p.fingerprint = target_fingerprint(setup, r, p, init);
  return p;
}

}  // namespace

namespace {

// "8x" → 8 × L and "32k" → 32768 tokens; `setting` names the option in errors. A ratio must make whole
// tokens (3.3 × 64 is 211.2: refused, not rounded).
int64_t length_of(const std::string& text, int64_t original, const std::string& setting) {
  const auto bad = [&] { return InvalidSetting(setting, fmt::format("'{}' is not a ratio (8x) or a length (2048, 32k)", text)); };
  if (text.empty() || (text.back() != 'x' && text.back() != 'X')) {
    const std::optional<int64_t> length = parse_token_count(text);
    if (!length) throw bad();
    return *length;
  }
  const std::string ratio = text.substr(0, text.size() - 1);
  size_t used = 0;
  double s = 0;
  try {
    s = std::stod(ratio, &used);
  } catch (const std::exception&) {
    throw bad();
  }
  if (used != ratio.size() || !std::isfinite(s) || s <= 0 || s > 1e6) throw bad();
  const double exact = s * static_cast<double>(original);
  const auto length = static_cast<int64_t>(std::llround(exact));
  if (std::fabs(exact - static_cast<double>(length)) > 1e-9 * exact || length < 1)
    throw InvalidSetting(setting, fmt::format("{}: {} × L = {} is {:g} tokens, not a whole number; give the length in tokens", text, ratio,
                                              original, exact));
  return length;
}

}  // namespace

SearchTarget parse_search_target(const std::string& text, int64_t original) {
  SearchTarget t;
  t.length = length_of(text, original, "target");
  t.scale = static_cast<double>(t.length) / static_cast<double>(original);
  if (t.length <= original)
    throw InvalidSetting("target", fmt::format("{}: {} tokens is not beyond the original length {} (a short table is searched "
                                               "at the original length)", text, t.length, original));
  t.name = fmt::format("{:g}x-{}", t.scale, t.length);
  return t;
}

std::vector<int64_t> serve_lengths_for(const SearchTarget& target, int64_t original, const std::vector<std::string>& texts,
                                       Runtime runtime) {
  std::vector<int64_t> out;
  if (texts.empty()) {  // log-spaced from 2L to the target: 2L, 4L, ... sL for a power of two
    const double s = target.scale;
    const int points = std::max(1, static_cast<int>(std::ceil(std::log2(s) - 1e-9)));
    for (int j = 0; j < points; ++j) {
      const double ratio = points == 1 ? s : 2.0 * std::pow(s / 2.0, static_cast<double>(j) / (points - 1));
      out.push_back(static_cast<int64_t>(std::llround(ratio * static_cast<double>(original))));
    }
  }
  for (const std::string& text : texts) out.push_back(length_of(text, original, "serve_lengths"));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  for (const int64_t length : out) {
    if (length > target.length)
      throw InvalidSetting("serve_lengths", fmt::format("{} is beyond the target length {}", length, target.length));
    if (length <= original && runtime != Runtime::VLLM)
      throw InvalidSetting("serve_lengths", fmt::format("{} is not beyond L = {}: {} runs the short factors there (search them with "
                                                        "--short)", length, original, mode_name(kRuntimeNames, runtime)));
    if (length < 2) throw InvalidSetting("serve_lengths", fmt::format("{} tokens is too short", length));
  }
  return out;
}

SearchPlan plan_search(const EvaluationSetup& setup, const SearchRequest& r) {
  check_search_request(r);
  const int64_t original = setup.config().original_max_position_embeddings;
  std::vector<SearchTarget> targets;
  if (r.short_table) targets.push_back({fmt::format("short-{}", original), original, 1.0, true});
  for (const std::string& text : r.targets) {
    SearchTarget t = parse_search_target(text, original);
    if (r.deploy) t.serve_lengths = serve_lengths_for(t, original, r.serve_lengths, *r.deploy);
    for (const SearchTarget& other : targets)
      if (other.length == t.length) throw InvalidSetting("target", fmt::format("{}: {} tokens is searched twice", text, t.length));
    targets.push_back(t);
  }
  std::optional<FactorTable> init;
  if (!r.init_table.empty()) {
    init = read_factor_table(r.init_table);
    check_table_for_model(*init, setup.config().rope_geometry(), r.init_table);
  }
  if (r.from_config && setup.config().rope_scaling.type == "default")
    throw InvalidSetting("from_config", fmt::format("{} carries no rope scaling to start from", setup.model_path()));
  const std::vector<Document> all = setup.read_documents(setup.data().path);
  const std::vector<Document> heldout_all = r.heldout.empty() ? std::vector<Document>{} : setup.read_documents(r.heldout);
  const std::vector<Document> validation_all =
      r.validation.is_directory() ? setup.read_documents(r.validation.directory) : std::vector<Document>{};
  SearchPlan plan;
  plan.init = init;
  for (const SearchTarget& t : targets)
    plan.targets.push_back(plan_target(setup, r, t, all, validation_all, heldout_all, r.from_config ? config_table(setup.config(), t) : init));
  return plan;
}

void check_run_directory(const EvaluationSetup& setup, const SearchRequest& r) {
  const int64_t original = setup.config().original_max_position_embeddings;
  if (fs::exists(r.out) && !fs::is_directory(r.out)) throw std::runtime_error(r.out + ": exists and is not a directory");
  // A run another process is writing: its holder's pid, not advice about resuming (the lock is let go
  // at once and taken for good when the search starts).
  if (fs::is_directory(r.out)) formats::DirectoryLock::acquire(r.out);
  if (fs::exists(r.out) && !r.resume && !fs::is_empty(r.out))
    throw std::runtime_error(r.out + ": run directory exists and is not empty; resume it, or choose another");
  const fs::path short_dir = fs::path(r.out) / fmt::format("short-{}", original);
  if (r.resume && !r.short_table && fs::exists(short_dir / "table.json"))
    throw InvalidSetting("short_table", fmt::format("{} holds a short table: resume the run with the short search too, so that "
                                                    "its tables keep their short factors", r.out));
  if (!r.heldout.empty() && canonical_path(r.heldout) == canonical_path(setup.data().path))
    fmt::print(stderr, "warning: the held-out documents are the search documents ({}): held-out scores will not be held out\n",
               r.heldout);
  if (!r.heldout.empty() && r.validation.is_directory() && canonical_path(r.heldout) == canonical_path(r.validation.directory))
    fmt::print(stderr, "warning: the held-out documents are the validation documents ({}): the winner is chosen on them, so "
                       "held-out scores will not be held out\n", r.heldout);
  const ConfigRopeScaling& scaling = setup.config().rope_scaling;
  if (scaling.type != "default" && !r.from_config)
    fmt::print(stderr, "warning: {}: the model carries a {} rope_scaling{}; the search scores it as the baseline 'config', but its "
                       "candidates divide the model's native frequencies and an exported table replaces that scaling (--from config "
                       "starts from it, --compose multiplies it)\n", setup.model_path(), scaling.type,
               scaling.factor ? fmt::format(" (factor {:g})", *scaling.factor) : "");
}

nlohmann::json SearchPlan::fingerprints() const {
  nlohmann::json out = nlohmann::json::array();
  for (const TargetPlan& p : targets) out.push_back(p.fingerprint.to_json());
  return out;
}

}  // namespace longrope
