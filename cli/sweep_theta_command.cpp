// longrope sweep-theta: perplexity against the RoPE base θ at one length (the RoPE-θ study of
// character-level models), evaluating the same documents with each base in place of the model's.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/shared_options.h"
#include "eval/method_comparison.h"
#include "formats/atomic_file.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace longrope {

int sweep_theta_command(const std::vector<std::string>& args) {
  std::string thetas_text, length_text, out;
  ModelArgs model;
  DataArgs data;
  RuntimeArgs runtime;
  po::options_description o("Sweep θ");
  o.add_options()
      ("thetas", po::value(&thetas_text)->required(), "RoPE bases, comma-separated (e.g. 500,1000,5000,10000,50000)")
      ("length", po::value(&length_text)->required(), "context length (tokens per window)")
      ("out", po::value(&out)->required(), "output prefix: writes PREFIX.csv and PREFIX.json");
  o.add(model_options(model)).add(data_options(data, "documents (file or directory)")).add(runtime_options(runtime));
  if (!parse_command_line("sweep-theta", "--model DIR --data PATH --length N --thetas 500,1000,... --out PREFIX", args, o)) return 0;
  const int64_t length = parse_length(length_text, "--length");
  if (length < 2) throw UsageError("--length must be at least 2");
  Comparison comparison{{length}, {}, 1, "sweep-theta"};
  std::vector<double> thetas;
  for (const std::string& text : split_option_list(thetas_text, "--thetas")) {
    const double theta = parse_number(text, "--thetas");
    // Published bases reach 10^8; a base beyond 10^12 leaves every pair but the first unrotated.
    if (!(theta > 1.0) || theta > 1e12) throw UsageError(fmt::format("--thetas: '{}' is not a base in (1, 10^12]", text));
    if (std::find(thetas.begin(), thetas.end(), theta) != thetas.end()) throw UsageError(fmt::format("--thetas: {} is given twice", text));
    thetas.push_back(theta);
    // θ as a table on the model's own base: the same weights, no second model.
    comparison.methods.push_back({text, [theta](const LlamaConfig& c, int64_t) { return rope_with_base(c.rope_geometry(), theta); }});
  }
  if (thetas.empty()) throw UsageError("--thetas is empty");
  const std::vector<std::string> outputs = prefixed_outputs(out, "--out", {".csv", ".json"});
  formats::check_output_files("--out", outputs, joined(model_inputs(model), data_inputs(data)));

  const EvaluationSetup setup = open_evaluation(model, data, runtime);
  require_window_memory(setup, length, 1, /*decoding=*/false, "length");
  const double trained = setup.config().rope_theta;
  const std::vector<Document> documents = setup.documents(length);
  json results = json::array();
  std::string csv = "theta,length,ppl,ppl_stderr,mean_nll,documents,trained_theta\n";
  const std::vector<ComparisonRow> rows = compare_scalings(setup, comparison, documents);
  for (size_t i = 0; i < rows.size(); ++i) {
    const PerplexityResult& r = rows[i].result;
    csv += fmt::format("{:g},{},{:.6f},{:.6f},{:.6f},{},{}\n", thetas[i], length, r.ppl, r.ppl * r.nll_stderr, r.mean_nll,
                       r.documents.size(), thetas[i] == trained ? 1 : 0);
    results.push_back({{"theta", thetas[i]}, {"length", length}, {"method", "none"}, {"ppl", r.ppl},
                       {"ppl_stderr", r.ppl * r.nll_stderr}, {"mean_nll", r.mean_nll}});
  }
  const json j = {{"model", model.path}, {"data", data.path}, {"length", length}, {"trained_theta", trained},
                  {"original_length", setup.config().original_max_position_embeddings}, {"documents", documents.size()},
                  {"results", results}};
  formats::write_files_atomically({{outputs[0], csv}, {outputs[1], j.dump(2) + "\n"}});
  fmt::print("{:>10} {:>12}\n", "theta", "ppl");
  for (const json& r : results)
    fmt::print("{:>10g}{} {:>12.4f}\n", r["theta"].get<double>(), r["theta"].get<double>() == trained ? "*" : " ", r["ppl"].get<double>());
  fmt::print("(* the model's own base; length {}, {} documents)\nwrote {}.csv and {}.json\n", length, documents.size(), out, out);
  return 0;
}

}  // namespace longrope
