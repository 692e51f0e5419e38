// longrope curve: perplexity against context length for several RoPE methods on the same
// documents (the LongRoPE paper's Fig. 3 / Table 1), as CSV and JSON.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/shared_options.h"
#include "eval/method_comparison.h"
#include "formats/atomic_file.h"
#include "util/paired_bootstrap.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace longrope {

int curve_command(const std::vector<std::string>& args) {
  std::string lengths_text, out;
  bool resume = false;
  ModelArgs model;
  DataArgs data;
  RuntimeArgs runtime;
  RopeArgs rope;
  rope.method = "none,pi,ntk,yarn";
  po::options_description o("Curve");
  o.add_options()
      ("lengths", po::value(&lengths_text)->required(), "context lengths, comma-separated (e.g. 256,512,1k,2k)")
      ("out", po::value(&out)->required(), "output prefix: writes PREFIX.csv and PREFIX.json; until they are written, every "
                                            "scored window is journaled in PREFIX.journal")
      ("resume", po::bool_switch(&resume), "continue a killed curve from PREFIX.journal (same model, documents and dtype)");
  o.add(model_options(model)).add(data_options(data, "documents (file or directory); the same ones are scored at every length"))
      .add(rope_options(rope, /*allow_list=*/true)).add(runtime_options(runtime));
  if (!parse_command_line("curve", "--model DIR --data PATH --lengths 256,512,... --out PREFIX [--method none,pi,table:T.json]",
                          args, o))
    return 0;
  Comparison comparison{{}, {}, 1, "curve"};
  for (const int64_t length : parse_lengths(lengths_text, "--lengths")) {
    if (length < 2) throw UsageError(fmt::format("--lengths: {} is too short", length));
    comparison.lengths.push_back(length);
  }
  if (comparison.lengths.empty()) throw UsageError("--lengths is empty");
  const RopeMethods rope_methods = read_rope_methods(rope);  // tables are read before the model loads
  comparison.methods = rope_methods.scalings;
  const std::vector<std::string> outputs = prefixed_outputs(out, "--out", {".csv", ".json", ".journal"});
  formats::check_output_files("--out", outputs, joined(joined(model_inputs(model), data_inputs(data)), rope_methods.inputs(rope)));

  const EvaluationSetup setup = open_evaluation(model, data, runtime);
  rope_methods.check(setup.config(), comparison.lengths);
  require_window_memory(setup, *std::max_element(comparison.lengths.begin(), comparison.lengths.end()), 1, /*decoding=*/false, "lengths");
  const int64_t original = setup.config().original_max_position_embeddings;
  const std::vector<Document> documents = setup.documents(*std::max_element(comparison.lengths.begin(), comparison.lengths.end()));
  ScoreJournal journal(journal_path(out), setup.score_job("curve", documents), resume);
  comparison.journal = &journal;
  json results = json::array();
  // With several windows, each method against the first at the same length (paired bootstrap, 95 %).
  std::string csv = "length,method,ppl,ppl_stderr,mean_nll,documents,beyond_original,change_vs_first,change_low,change_high\n";
  std::map<int64_t, std::vector<double>> first_nlls;  // length -> the first method's window NLLs
  for (const ComparisonRow& row : compare_scalings(setup, comparison, documents)) {
    const PerplexityResult& r = row.result;
    std::optional<RelativeChange> change;
    if (!first_nlls.count(row.length)) first_nlls[row.length] = window_nlls(r);
    else if (r.documents.size() >= 2) change = paired_bootstrap(window_nlls(r), first_nlls[row.length]);
    csv += fmt::format("{},{},{:.6f},{:.6f},{:.6f},{},{},{}\n", row.length, row.method, r.ppl, r.ppl * r.nll_stderr, r.mean_nll,
                       r.documents.size(), row.length > original ? 1 : 0,
                       change ? fmt::format("{:.6f},{:.6f},{:.6f}", change->estimate, change->low, change->high) : ",,");
    json versus = nullptr;
    if (change) {
      versus = relative_change_json(*change);
      versus["method"] = comparison.methods.front().name;
    }
    json windows = json::array();
    for (const DocumentScore& d : r.documents) windows.push_back({{"name", d.name}, {"mean_nll", d.mean_nll}});
    results.push_back({{"length", row.length}, {"method", row.method}, {"ppl", r.ppl}, {"ppl_stderr", r.ppl * r.nll_stderr},
                       {"mean_nll", r.mean_nll}, {"documents", r.documents.size()}, {"attention_factor", row.scaling.attention_factor},
                       {"start_tokens", row.scaling.start_tokens}, {"seconds", r.seconds},
                       {"peak_device_bytes", row.peak_device_bytes ? json(*row.peak_device_bytes) : json(nullptr)},
                       {"versus_first", versus}, {"windows", windows}});
  }
  std::vector<std::string> methods;
  for (const NamedScaling& m : comparison.methods) methods.push_back(m.name);
  const json j = {{"model", model.path}, {"data", data.path}, {"original_length", original}, {"lengths", comparison.lengths},
                  {"methods", methods}, {"documents", documents.size()}, {"results", results}};
  formats::write_files_atomically({{outputs[0], csv}, {outputs[1], j.dump(2) + "\n"}});
  journal.remove();
  // The table a reader wants: one row per length, one column per method.
  fmt::print("{:>8}", "length");
  for (const std::string& m : methods) fmt::print(" {:>14}", m.rfind("table:", 0) == 0 ? "longrope table" : m);
  fmt::print("\n");
  size_t k = 0;
  for (int64_t length : comparison.lengths) {
    fmt::print("{:>7}{}", length, length > original ? "*" : " ");
    for (size_t i = 0; i < methods.size(); ++i) fmt::print(" {:>14.4f}", results[k++]["ppl"].get<double>());
    fmt::print("\n");
  }
  fmt::print("(* beyond the original length {}; {} documents)\nwrote {}.csv and {}.json\n", original, documents.size(), out, out);
  return 0;
}

}  // namespace longrope
