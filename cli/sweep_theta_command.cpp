// longrope sweep-theta: perplexity against the RoPE base θ at one length (the RoPE-θ study of
// character-level models), evaluating the same documents with each base in place of the model's.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/data_options.h"
#include "util/progress.h"
#include "cli/runtime_options.h"
#include "eval/perplexity.h"
#include "formats/atomic_file.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace longrope {

int sweep_theta_command(const std::vector<std::string>& args) {
  std::string model_dir, thetas_text, length_text, out;
  RuntimeArgs runtime;
  DataArgs data_args;
  po::options_description o("Sweep θ");
  o.add_options()
      ("model", po::value(&model_dir)->required(), kModelHelp)
      ("thetas", po::value(&thetas_text)->required(), "RoPE bases, comma-separated (e.g. 500,1000,5000,10000,50000)")
      ("length", po::value(&length_text)->required(), "context length (tokens per window)")
      ("out", po::value(&out)->required(), "output prefix: writes PREFIX.csv and PREFIX.json");
  o.add(data_options(data_args, "documents (file or directory)")).add(runtime_options(runtime));
  if (!parse_command_line("sweep-theta", "--model DIR --data PATH --length N --thetas 500,1000,... --out PREFIX", args, o)) return 0;
  const int64_t length = parse_length(length_text, "--length");
  if (length < 2) throw std::invalid_argument("--length must be at least 2");
  std::vector<double> thetas;
  for (const std::string& t : split_list(thetas_text)) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(t, &used);
    } catch (const std::exception&) {
    }
    if (used != t.size() || !(v > 1.0)) throw std::invalid_argument(fmt::format("--thetas: '{}' is not a base > 1", t));
    thetas.push_back(v);
  }
  if (thetas.empty()) throw std::invalid_argument("--thetas is empty");

  const ModelOptions options = make_model_options(runtime);
  const LlamaModel loaded = LlamaModel::load(model_dir, options);
  LlamaConfig config = loaded.config();
  const std::optional<int64_t> bos = apply_data_args(data_args, config, model_dir);
  const std::vector<Document> docs =
      documents_for_length(data_args, load_all_documents(data_args, data_args.data), data_args.data, length, bos.has_value());
  json results = json::array();
  std::string csv = "theta,length,ppl,ppl_stderr,mean_nll,documents,trained_theta\n";
  Progress progress("sweep-theta", thetas.size());
  for (size_t i = 0; i < thetas.size(); ++i) {
    LlamaConfig c = config;
    c.rope_theta = thetas[i];
    const LlamaModel model(c, loaded.weights(), options);
    PerplexityEvaluator evaluator(model, PerplexityOptions{length, bos, 2048, 1});
    const PerplexityResult r = evaluator.evaluate(docs, rope_none(model.rope_geometry()));
    csv += fmt::format("{:g},{},{:.6f},{:.6f},{:.6f},{},{}\n", thetas[i], length, r.ppl, r.ppl * r.nll_stderr, r.mean_nll,
                       r.documents.size(), thetas[i] == config.rope_theta ? 1 : 0);
    results.push_back({{"theta", thetas[i]}, {"length", length}, {"method", "none"}, {"ppl", r.ppl},
                       {"ppl_stderr", r.ppl * r.nll_stderr}, {"mean_nll", r.mean_nll}});
    progress.update(i + 1, fmt::format("θ {:g}: ppl {:.3f}", thetas[i], r.ppl));
  }
  progress.finish();
  const json j = {{"model", model_dir}, {"data", data_args.data}, {"length", length}, {"trained_theta", config.rope_theta},
                  {"original_length", config.original_max_position_embeddings}, {"documents", docs.size()}, {"results", results}};
  formats::write_file_atomically(out + ".csv", csv);
  formats::write_file_atomically(out + ".json", j.dump(2) + "\n");
  fmt::print("{:>10} {:>12}\n", "theta", "ppl");
  for (const json& r : results)
    fmt::print("{:>10g}{} {:>12.4f}\n", r["theta"].get<double>(), r["theta"].get<double>() == config.rope_theta ? "*" : " ",
               r["ppl"].get<double>());
  fmt::print("(* the model's own base; length {}, {} documents)\nwrote {}.csv and {}.json\n", length, docs.size(), out, out);
  return 0;
}

}  // namespace longrope
