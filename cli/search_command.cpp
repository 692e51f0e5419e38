// longrope search: evolutionary search of λ and n̂ for one or more target lengths in one job,
// reusing the loaded model; resumable; writes a factor table per target. Under mpirun or srun, one
// rank per device (search/distributed_search.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/shared_options.h"
#include "search/distributed_search.h"
#include "search/search_run.h"

namespace po = boost::program_options;

namespace longrope {

namespace {

struct SearchArgs {
  SearchRequest request;
  ModelArgs model;
  DataArgs data;
  RuntimeArgs runtime;
  RankSettings ranks;
};

// The run directory against what the search reads (formats/output_paths.h), before any model loads.
void check_search_outputs(const SearchArgs& a) {
  const SearchRequest& r = a.request;
  std::vector<formats::ReadPath> inputs = joined(model_inputs(a.model), data_inputs(a.data));
  inputs.push_back({"--heldout", r.heldout});
  inputs.push_back({"--validation", r.validation.is_directory() ? r.validation.directory : ""});
  inputs.push_back({"--init-table", r.init_table});
  formats::check_outputs({{"--out", r.out, formats::WritePath::Kind::Directory}}, inputs);
}

// nullopt after --help. `writes_run`: this process writes the run directory (not an MPI worker rank),
// so it checks it.
std::optional<SearchArgs> parse_search(const std::vector<std::string>& args, bool writes_run) {
  SearchArgs a;
  SearchRequest& r = a.request;
  ModelArgs& model = a.model;
  DataArgs& data = a.data;
  RuntimeArgs& runtime = a.runtime;
  RankSettings& ranks = a.ranks;
  std::string targets, devices, race_margin, deploy, serve_lengths, from;  // race margin unset: racing off
  std::string validation = r.validation.text(), objective = mode_name(kObjectiveNames, r.objective),
              bound = mode_name(kLambdaBoundNames, r.bound), critical_dim = r.critical_dim.text(),
              space = mode_name(kSpaceShapeNames, r.space), optimizer = mode_name(kOptimizerNames, r.optimizer);
  SearchSettings& e = r.evolution;
  int64_t seed = static_cast<int64_t>(e.seed);
  po::options_description o("Search");
  o.add_options()
      ("target", po::value(&targets)->required(), "target lengths: ratios (8x,16x) or token counts (2048, 32k), comma-separated")
      ("out", po::value(&r.out)->required(), "run directory (one subdirectory per target)")
      ("heldout", po::value(&r.heldout), "held-out documents: the winner and baselines are reported on them too")
      ("validation", po::value(&validation)->default_value(validation),
       "where the winner is chosen among the best --validate-top: auto (windows of the search documents after the search's), "
       "none (the best on the search windows, as the reference does), or a directory of documents")
      ("validate-top", po::value(&r.validate_top)->default_value(r.validate_top),
       "the best K distinct candidates re-scored on the validation windows")
      ("objective", po::value(&objective)->default_value(objective),
       "ppl (perplexity of the windows, the paper's) or needle (LongRoPE2's: the NLL of a needle's answer at depths spread "
       "over the windows; held-out sets are still scored by perplexity)")
      ("population", po::value(&e.population)->default_value(e.population), "initial population P (at least the 4 seed tables)")
      ("generations", po::value(&e.generations)->default_value(e.generations), "generations T (with --resume, a larger T extends a finished search)")
      ("mutants", po::value(&e.mutants)->default_value(e.mutants), "mutation children per generation N1")
      ("crossovers", po::value(&e.crossovers)->default_value(e.crossovers), "crossover children per generation N2")
      ("parents", po::value(&e.parents)->default_value(e.parents), "top-k kept and bred from")
      ("mutation-prob", po::value(&r.mutation_probability)->default_value(r.mutation_probability), "per-gene mutation probability")
      ("seed", po::value(&seed)->default_value(seed), "random seed (a seed reproduces a run given the same scores)")
      ("bound", po::value(&bound)->default_value(bound), "λ upper bound: paper (1.25·s) or reference (1 + s)")
      ("step", po::value(&r.step)->default_value(r.step), "λ grid step")
      ("search-start-tokens", po::value(&r.search_start_tokens)->default_value(true), "search n̂ (false: n̂ = 0, exportable to every runtime)")
      ("critical-dim", po::value(&critical_dim)->default_value(critical_dim),
       "LongRoPE2's smaller space: none (every pair searched), auto, auto-K (K pairs below auto), or a pair index c below d/2. Pairs below c are not "
       "searched and follow λ_c NTK-style, λ_i = λ_c^(i/c). auto = the theoretical critical dimension, the first pair whose "
       "wavelength 2π·θ^(2i/d) exceeds L: ceil((d/2)·log_θ(L/2π)) (35 for LLaMA-3-8B; LongRoPE2's code uses one less)")
      ("space", po::value(&space)->default_value(space),
       "paper (λ non-decreasing on the grid, every pair searched) or piecewise (the reference's dim_piece_mono: λ = 1 up to "
       "a searched pair α, s above a searched β, non-decreasing in [1, s] between)")
      ("optimizer", po::value(&optimizer)->default_value(optimizer),
       "evolution (the paper's search), gradient (the seed tables scored, then Adam steps on ∂NLL/∂λ from the best of them, "
       "one search window per step, λ kept monotone and in bounds) or both (the evolution, then steps from its best). "
       "Every --gradient-snapshot-every steps λ is rounded onto the grid and scored exactly; the validation rule chooses")
      ("gradient-steps", po::value(&r.gradient.steps)->default_value(r.gradient.steps), "gradient steps (a forward and a backward each)")
      ("gradient-lr", po::value(&r.gradient.learning_rate)->default_value(r.gradient.learning_rate), "Adam's learning rate on λ's parameters")
      ("gradient-snapshot-every", po::value(&r.gradient.snapshot_every)->default_value(r.gradient.snapshot_every),
       "a grid candidate every this many steps (and after the last)")
      ("gradient-checkpoint", po::bool_switch(&r.gradient.checkpoint_layers),
       "recompute each layer (and loss chunk) in the backward instead of keeping its activations: about one more forward per "
       "step, for a backward that fits where the forward does")
      ("gradient-average", po::bool_switch(&r.gradient.average),
       "a snapshot is the mean λ of the steps since the last one, not the last step's λ (steps on single windows are noisy)")
      ("short", po::bool_switch(&r.short_table), "also search a short table at the original length (Phi-3's short_factor)")
      ("deploy", po::value(&deploy),
       "search for a deployment on transformers, vllm or llama.cpp: n̂ = 0 (no runtime has it), each candidate scored under that "
       "runtime's rule as the mean NLL over --serve-lengths, and with --short the short table under the long one's attention "
       "factor (which the runtime applies to both)")
      ("serve-lengths", po::value(&serve_lengths),
       "with --deploy: the lengths a deployment serves, comma-separated ratios or lengths (default: log-spaced from 2L to the target)")
      ("single-table", po::bool_switch(&r.single_table),
       "with --deploy: export short = long (vLLM #27414's workaround for its switch under concurrency), and report what that costs "
       "at L/2 and L against plain RoPE")
      ("init-table", po::value(&r.init_table), "seed from an earlier table (.json or .csv)")
      ("from", po::value(&from), "config: start from the model's own rope scaling (Phi-3's longrope, Llama 3's llama3, yarn): it is a "
       "seed and the baseline the verdict compares with; with --compose every candidate multiplies it, and the table keeps the "
       "model's own factors at L as its short factors")
      ("compose", po::bool_switch(&r.compose), "with --init-table or --from config: search λ2 and evaluate λ1·λ2 (progressive extension)")
      ("resume", po::bool_switch(&r.resume), "continue the run in --out from its last saved generation")
      ("devices", po::value(&devices), "evaluators, one per device (e.g. cuda:0,cuda:1); default: --device. Under MPI, "
       "each rank takes the one at its local rank (mod the list's length)")
      ("coordinator-only", po::bool_switch(&ranks.coordinator_only),
       "under MPI: rank 0 runs the evolution and scores no candidate (it still scores baselines, validation and held-out)")
      ("batch-candidates", po::value(&r.batch_candidates)->default_value(r.batch_candidates),
       "candidates scored together, one batch row each (same tokens, own cos/sin table): fills a device one candidate leaves idle")
      ("race-margin", po::value(&race_margin),
       "racing (off by default): stop a child after any document but the last once its mean NLL so far exceeds the "
       "worst parent's on the same documents by more than this many nats (e.g. 0.005)");
  o.add(model_options(model)).add(data_options(data, "search-set documents (file or directory)")).add(runtime_options(runtime));
  po::variables_map given;
  if (!parse_command_line("search", "--model DIR --data PATH --target 8x[,16x] --out RUN [options]", args, o, &given))
    return std::nullopt;
  ranks.device_given = !given["device"].defaulted();
  r.targets = split_list(targets);
  r.devices = split_list(devices);
  if (r.targets.empty()) throw UsageError("--target is empty");
  if (!from.empty() && from != "config") throw UsageError("--from: '" + from + "' is not config (an earlier table is --init-table)");
  r.from_config = from == "config";
  if (r.compose && r.init_table.empty() && !r.from_config) throw UsageError("--compose needs --init-table or --from config");
  if (!race_margin.empty()) r.race_margin = parse_number(race_margin, "--race-margin");
  r.validation = ValidationChoice::parse(validation);
  std::error_code ignored;
  if (r.validation.is_directory() && std::filesystem::equivalent(r.validation.directory, data.path, ignored))
    throw UsageError(fmt::format("--validation {} is the search data (--data): the winner would be chosen on the windows it won on; "
                                 "give auto (later windows of the search documents) or other documents", r.validation.directory));
  r.objective = parse_mode(kObjectiveNames, objective, "objective");
  r.bound = parse_mode(kLambdaBoundNames, bound, "bound");
  r.critical_dim = CriticalDim::parse(critical_dim);
  r.space = parse_mode(kSpaceShapeNames, space, "space");
  r.optimizer = parse_mode(kOptimizerNames, optimizer, "optimizer");
  if (!deploy.empty()) {
    r.deploy = parse_mode(kRuntimeNames, deploy, "deploy");
    if (!given["search-start-tokens"].defaulted() && r.search_start_tokens)
      throw UsageError("--search-start-tokens true: no runtime has n̂, so --deploy searches with n̂ = 0");
    r.search_start_tokens = false;
  }
  r.serve_lengths = split_list(serve_lengths);
  if (r.optimizer == Optimizer::Evolution)
    for (const char* option : {"gradient-steps", "gradient-lr", "gradient-snapshot-every", "gradient-checkpoint", "gradient-average"})
      if (!given[option].defaulted()) throw UsageError(fmt::format("--{} needs --optimizer gradient or both", option));
  // The gradient alone scores the seed tables once and steps from the best: no generations to shape.
  if (r.optimizer == Optimizer::Gradient)
    for (const char* option : {"population", "generations", "mutants", "crossovers", "parents", "mutation-prob", "race-margin"})
      if (given.count(option) && !given[option].defaulted())
        throw UsageError(fmt::format("--{} shapes the evolution; --optimizer gradient runs none (use --optimizer both)", option));
  if (r.validation.kind == ValidationChoice::Kind::None && !given["validate-top"].defaulted())
    throw UsageError("--validate-top chooses among the best on validation windows; --validation none has none");
  // The default re-scores the best 4; a smaller population is the user's choice, and is judged as such.
  if (given["validate-top"].defaulted()) r.validate_top = std::min(r.validate_top, std::max(1, e.population));
  e.seed = parse_seed(seed, "--seed");
  check_search_request(r);
  if (writes_run) check_search_outputs(a);
  return a;
}

}  // namespace

int search_command(const std::vector<std::string>& args) {
  // Under mpirun/srun, before the options: a rank that cannot parse its own still reports through rank 0.
  const std::unique_ptr<MpiJob> job = MpiJob::join();
  if (job) {
    const auto describe = [](std::exception_ptr e) { return describe_error(e).line; };
    try {
      std::optional<SearchArgs> a;
      try {
        a = parse_search(args, job->rank() == 0);
      } catch (...) {
        return fail_on_ranks(*job, std::current_exception(), describe);
      }
      if (!a) return 0;
      const auto tables = search_on_ranks(*job, a->model, a->data, a->runtime, a->request, a->ranks, describe);
      if (tables) fmt::print("{}", search_summary(*tables));
      return 0;
    } catch (const AgreedError& e) {
      std::rethrow_exception(e.error);  // every rank knows: main prints it, and the ranks finalize in order
    } catch (...) {
      // Other ranks may be waiting on this one: say why, then end them all.
      const ErrorReport report = describe_error(std::current_exception());
      fmt::print(stderr, "longrope search: rank {}: {}\n", job->rank(), report.line);
      job->abort(report.exit_code);
    }
  }
  const std::optional<SearchArgs> a = parse_search(args, /*writes_run=*/true);
  if (!a) return 0;
  if (a->ranks.coordinator_only) throw UsageError("--coordinator-only needs an MPI launch (mpirun or srun) of at least 2 ranks");
  for (const std::string& device : a->request.devices) {
    try {
      parse_device(device);  // before the model loads, blamed on the option that named it
    } catch (const InvalidSetting& e) {
      throw InvalidSetting("devices", e.problem());
    }
  }
  const EvaluationSetup setup = open_evaluation(a->model, a->data, a->runtime);
  int64_t longest = 0;
  for (const std::string& target : a->request.targets)
    longest = std::max(longest, parse_search_target(target, setup.config().original_max_position_embeddings).length);
  if (longest > 0) require_window_memory(setup, longest, a->request.batch_candidates, /*decoding=*/false, "target",
                                         "batch_candidates");
  fmt::print("{}", search_summary(run_search(setup, a->request)));
  return 0;
}

}  // namespace longrope
