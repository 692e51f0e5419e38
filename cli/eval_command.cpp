// longrope eval: perplexity on long documents at one length, for one or more RoPE methods.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/shared_options.h"
#include "eval/method_comparison.h"
#include "formats/atomic_file.h"
#include "models/forward_profile.h"
#include "util/paired_bootstrap.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace longrope {
namespace {

// Each stage's share of the row's time and its FLOP rate: where a forward's time goes.
json print_profile(const std::string& method, const ForwardProfile& profile, double row_seconds) {
  const double rate = profile.total_flops() / row_seconds / 1e9;
  fmt::print("  profile of {}: {:.3g} GFLOP in {:.2f} s, {:.1f} GFLOP/s over the row\n", method, profile.total_flops() / 1e9,
             row_seconds, rate);
  fmt::print("  {:<20} {:>6} {:>9} {:>7} {:>10} {:>9}\n", "stage", "calls", "seconds", "share", "GFLOP", "GFLOP/s");
  json stages = json::array();
  for (const StageTotals& s : profile.stages) {
    fmt::print("  {:<20} {:>6} {:>9.3f} {:>6.1f}% {:>10.3g} {:>9}\n", s.stage, s.calls, s.seconds, 100 * s.seconds / row_seconds,
               s.flops / 1e9, s.flops > 0 ? fmt::format("{:.1f}", s.flops / s.seconds / 1e9) : "");
    stages.push_back({{"stage", s.stage}, {"calls", s.calls}, {"seconds", s.seconds}, {"flops", s.flops}});
  }
  const double other = row_seconds - profile.total_seconds();
  fmt::print("  {:<20} {:>6} {:>9.3f} {:>6.1f}%\n", "(outside the stages)", "", other, 100 * other / row_seconds);
  return stages;
}

}  // namespace

int eval_command(const std::vector<std::string>& args) {
  std::string json_out, length_text;
  int64_t batch = 1;
  bool resume = false, profile = false;
  ModelArgs model;
  DataArgs data;
  RuntimeArgs runtime;
  RopeArgs rope;
  po::options_description o("Evaluation");
  o.add_options()
      ("length", po::value(&length_text)->required(), "tokens per document window, BOS included (e.g. 2048 or 2k)")
      ("batch", po::value(&batch)->default_value(batch), "documents per forward")
      ("json", po::value(&json_out), "also write the result as JSON to this file; until it is written, every scored window is "
                                     "journaled in FILE.journal")
      ("resume", po::bool_switch(&resume), "continue a killed eval from FILE.journal (same model, documents and dtype)")
      ("profile", po::bool_switch(&profile), "after each method, where its forwards' time went: seconds, model FLOPs and GFLOP/s "
                                             "per stage (projections, attention, MLP, LM head, loss, ...); CPU only");
  o.add(model_options(model)).add(data_options(data, "a document or a directory of them (.txt, .npy, .u16, .u32)"))
      .add(rope_options(rope, /*allow_list=*/true)).add(runtime_options(runtime));
  if (!parse_command_line("eval", "--model DIR --data PATH --length N [options]", args, o)) return 0;
  const int64_t length = parse_length(length_text, "--length");
  if (length < 2) throw UsageError(fmt::format("--length must be at least 2, got {}", length));
  const RopeMethods rope_methods = read_rope_methods(rope);  // tables are read before the model loads
  const std::vector<std::string>& methods = rope_methods.names;
  const std::vector<RopeMethodSpec>& specs = rope_methods.specs;
  Comparison comparison{{length}, rope_methods.scalings, batch, "eval"};
  if (resume && json_out.empty()) throw UsageError("--resume needs --json: the journal it continues lies beside that file");
  if (profile && runtime.device != "cpu")
    throw UsageError("--profile times CPU forwards only: CUDA work runs asynchronously, its stages would time launches");
  // Before the evaluation, not after it.
  if (!json_out.empty())
    formats::check_output_files("--json", {json_out, journal_path(json_out)},
                                joined(joined(model_inputs(model), data_inputs(data)), rope_methods.inputs(rope)));

  const EvaluationSetup setup = open_evaluation(model, data, runtime);
  const LlamaConfig& config = setup.config();
  rope_methods.check(config, {length});
  require_window_memory(setup, length, batch, /*decoding=*/false, "length");
  const int64_t original = config.original_max_position_embeddings;
  fmt::print("model {}  ({} parameters, {}, {})\n", model.path, setup.model().parameter_count(), runtime.device,
             dtype_name(setup.model().dtype()));
  const std::vector<Document> documents = setup.documents(length);
  std::optional<ScoreJournal> journal;
  if (!json_out.empty()) comparison.journal = &journal.emplace(journal_path(json_out), setup.score_job("eval", documents), resume);
  fmt::print("data  {}  ({} documents, window {} tokens, original length {})\n\n", data.path, documents.size(), length, original);
  // With several windows, every method against the first on the same windows (paired bootstrap, 95 %).
  const bool intervals = documents.size() >= 2 && methods.size() >= 2;
  fmt::print("{:<12} {:>7} {:>5} {:>12} {:>9} {:>10} {:>10}{}\n", "method", "scale", "n̂", "ppl", "± (1σ)", "mean NLL", "tokens/s",
             intervals ? fmt::format("   ppl vs {} (95 % interval)", methods[0]) : "");
  json results = json::array();
  size_t method_index = 0;
  std::vector<double> first_nlls;
  ForwardProfile forward_profile;
  std::optional<ProfilingScope> profiling;
  if (profile) profiling.emplace(&forward_profile);
  compare_scalings(setup, comparison, documents, [&](const ComparisonRow& row) {
    const RopeMethodSpec& spec = specs[method_index++];
    const PerplexityResult& r = row.result;
    const double scale = spec.scale.value_or(std::max(1.0, static_cast<double>(length) / static_cast<double>(original)));
    const double ppl_err = r.ppl * r.nll_stderr;  // delta method
    const double tps = static_cast<double>(r.predictions + static_cast<int64_t>(r.documents.size())) / r.seconds;
    json versus = nullptr;
    std::string versus_text;
    if (method_index == 1) first_nlls = window_nlls(r);
    if (intervals && method_index > 1) {
      const RelativeChange c = paired_bootstrap(window_nlls(r), first_nlls);
      versus = relative_change_json(c);
      versus["method"] = methods[0];
      versus_text = "   " + format_change(c);
    }
    fmt::print("{:<12} {:>7.3f} {:>5} {:>12.4f} {:>9.4f} {:>10.5f} {:>10.1f}{}\n", row.method, scale, row.scaling.start_tokens, r.ppl,
               ppl_err, r.mean_nll, tps, versus_text);
    json docs_json = json::array();
    for (const auto& d : r.documents) docs_json.push_back({{"name", d.name}, {"mean_nll", d.mean_nll}, {"predictions", d.predictions}});
    results.push_back({{"method", row.method}, {"scale", scale}, {"ppl", r.ppl}, {"ppl_stderr", ppl_err}, {"mean_nll", r.mean_nll},
                       {"nll_stderr", r.nll_stderr}, {"predictions", r.predictions}, {"seconds", r.seconds},
                       {"tokens_per_second", tps}, {"lambda", row.scaling.lambda}, {"start_tokens", row.scaling.start_tokens},
                       {"attention_factor", row.scaling.attention_factor}, {"documents", docs_json},
                       {"peak_device_bytes", row.peak_device_bytes ? json(*row.peak_device_bytes) : json(nullptr)},
                       {"versus_first", versus}});
    if (profile) {
      results.back()["profile"] = print_profile(row.method, forward_profile, r.seconds);
      forward_profile = ForwardProfile{};
    }
  });
  if (!json_out.empty()) {
    json j = {{"model", model.path}, {"data", data.path}, {"length", length}, {"original_length", original},
              {"device", runtime.device}, {"dtype", dtype_name(setup.model().dtype())},
              {"bos", setup.bos() ? json(*setup.bos()) : json(nullptr)}, {"results", results}};
    j["ppl"] = results[0]["ppl"];  // the first (usually only) method, for scripts
    j["method"] = results[0]["method"];
    formats::write_file_atomically(json_out, j.dump(2) + "\n");
    journal->remove();
  }
  return 0;
}

}  // namespace longrope
