// Planning a search job: every target's documents, space, seeds and fingerprint, decided and checked
// before anything is written or any forward runs (every MPI rank plans the same job).
#include "search/search_plan.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "eval/needle.h"
#include "formats/directory_lock.h"
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
  if (r.compose && r.init_table.empty()) throw InvalidSetting("compose", "needs an init table");
  if (r.targets.empty() && !r.short_table) throw InvalidSetting("target", "no target given");
  if (r.out.empty()) throw InvalidSetting("out", "no run directory given");
  if (r.validate_top < 1) throw InvalidSetting("validate_top", fmt::format("must be positive, got {}", r.validate_top));
  if (r.validate_top > r.evolution.population)
    throw InvalidSetting("validate_top", fmt::format("{} exceeds the population ({})", r.validate_top, r.evolution.population));
  const bool critical = r.critical_dim.kind != CriticalDim::Kind::None;
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
               const RopeGeometry& geometry) {
  if (!base.empty()) {
    p.seeds.push_back(genome_from_lambda(p.space, std::vector<double>(base.size(), 1.0)));
    p.seed_names.push_back("init-table");
    return;
  }
  if (init) {
    p.seeds.push_back(genome_from_lambda(p.space, init->lambda, p.space.search_start_tokens ? init->start_tokens : 0));
    p.seed_names.push_back("init-table");
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

// The target's windows: search, validation (as --validation says) and held-out; needle windows for
// the needle objective.
void select_target_windows(const EvaluationSetup& setup, const SearchRequest& r, const std::vector<Document>& all,
                           const std::vector<Document>& validation_all, const std::vector<Document>& heldout_all, TargetPlan& p) {
  const SearchTarget& target = p.target;
  p.documents = setup.documents_for_length(all, setup.data().path, target.length);
  if (!r.heldout.empty()) p.heldout = setup.documents_for_length(heldout_all, r.heldout, target.length);
  if (r.validation.kind == ValidationChoice::Kind::Auto && !target.is_short) {
    // As many windows per document as the search scores, and 8 at least in all: fewer give no interval
    // worth the name.
    const auto docs = static_cast<int64_t>(setup.data().first_windows_only() ? p.documents.size()
                                                                             : std::max<size_t>(1, p.documents.size() / setup.data().windows));
    const int64_t per_document = std::max(setup.data().windows, (kMinValidationWindows + docs - 1) / std::max<int64_t>(docs, 1));
    p.validation = setup.later_windows(all, setup.data().path, target.length, per_document);
    if (p.validation.size() < 2)
      fmt::print(stderr, "warning: [{}] the search documents hold {} windows beyond the search's: the winner is chosen on "
                         "the search windows (give a validation directory)\n", target.name, p.validation.size());
    if (p.validation.size() < 2) p.validation.clear();
  } else if (r.validation.is_directory() && !target.is_short) {
    p.validation = setup.documents_for_length(validation_all, r.validation.directory, target.length);
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
  return f;
}

TargetPlan plan_target(const EvaluationSetup& setup, const SearchRequest& r, const SearchTarget& target,
                       const std::vector<Document>& all, const std::vector<Document>& validation_all,
                       const std::vector<Document>& heldout_all, const std::optional<FactorTable>& init) {
  const RopeGeometry geometry = setup.config().rope_geometry();
  TargetPlan p;
  p.target = target;
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
  p.space.search_start_tokens = r.search_start_tokens && !target.is_short;
  p.space.critical_dim = critical_dim_for(r.critical_dim, geometry);
  if (r.space == SpaceShape::Piecewise) {
    p.space.piecewise = true;
    p.space.piece_top = std::min(p.space.max_grid_index, static_cast<int32_t>(std::lround((space_scale - 1.0) / r.step)));
  }
  add_seeds(p, init, base, space_scale, geometry);
  // Fewer places than seeds would leave PI, NTK or YaRN out of the search and the winner could lose to them.
  if (r.evolution.population < static_cast<int>(p.seeds.size()))
    throw InvalidSetting("population", fmt::format("{} cannot hold the {} seed tables ({})", r.evolution.population, p.seeds.size(),
                                                   p.seed_names.dump()));
  p.scorer = ScorerSettings{geometry, target.scale, std::nullopt, base, r.race_margin};
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

SearchTarget parse_search_target(const std::string& text, int64_t original) {
  SearchTarget t;
  const auto bad = [&] { return InvalidSetting("target", fmt::format("'{}' is not a ratio (8x) or a length (2048, 32k)", text)); };
  if (!text.empty() && (text.back() == 'x' || text.back() == 'X')) {
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
    t.length = static_cast<int64_t>(std::llround(exact));
    if (std::fabs(exact - static_cast<double>(t.length)) > 1e-9 * exact)
      throw InvalidSetting("target", fmt::format("{}: {} × L = {} is {:g} tokens, not a whole number; give the length in tokens", text,
                                                 ratio, original, exact));
  } else {
    const std::optional<int64_t> length = parse_token_count(text);
    if (!length) throw bad();
    t.length = *length;
  }
  t.scale = static_cast<double>(t.length) / static_cast<double>(original);
  if (t.length <= original)
    throw InvalidSetting("target", fmt::format("{}: {} tokens is not beyond the original length {} (a short table is searched "
                                               "at the original length)", text, t.length, original));
  t.name = fmt::format("{:g}x-{}", t.scale, t.length);
  return t;
}

SearchPlan plan_search(const EvaluationSetup& setup, const SearchRequest& r) {
  check_search_request(r);
  const int64_t original = setup.config().original_max_position_embeddings;
  std::vector<SearchTarget> targets;
  if (r.short_table) targets.push_back({fmt::format("short-{}", original), original, 1.0, true});
  for (const std::string& text : r.targets) {
    SearchTarget t = parse_search_target(text, original);
    for (const SearchTarget& other : targets)
      if (other.length == t.length) throw InvalidSetting("target", fmt::format("{}: {} tokens is searched twice", text, t.length));
    targets.push_back(t);
  }
  std::optional<FactorTable> init;
  if (!r.init_table.empty()) {
    init = read_factor_table(r.init_table);
    check_table_for_model(*init, setup.config().rope_geometry(), r.init_table);
  }
  const std::vector<Document> all = setup.read_documents(setup.data().path);
  const std::vector<Document> heldout_all = r.heldout.empty() ? std::vector<Document>{} : setup.read_documents(r.heldout);
  const std::vector<Document> validation_all =
      r.validation.is_directory() ? setup.read_documents(r.validation.directory) : std::vector<Document>{};
  SearchPlan plan;
  plan.init = init;
  for (const SearchTarget& t : targets) plan.targets.push_back(plan_target(setup, r, t, all, validation_all, heldout_all, init));
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
  const ConfigRopeScaling& scaling = setup.config().rope_scaling;
  if (scaling.type != "default")
    fmt::print(stderr, "warning: {}: the model carries a {} rope_scaling{}; the search ignores it: its factors divide the model's "
                       "native frequencies, and a table replaces that scaling\n", setup.model_path(), scaling.type,
               scaling.factor ? fmt::format(" (factor {:g})", *scaling.factor) : "");
}

nlohmann::json SearchPlan::fingerprints() const {
  nlohmann::json out = nlohmann::json::array();
  for (const TargetPlan& p : targets) out.push_back(p.fingerprint.to_json());
  return out;
}

}  // namespace longrope
