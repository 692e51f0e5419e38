// longrope curve: perplexity against context length for several RoPE methods on the same
// documents (the LongRoPE paper's Fig. 3 / Table 1), as CSV and JSON.
#include <fmt/format.h>

#include <filesystem>
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

int curve_command(const std::vector<std::string>& args) {
  std::string model_dir, lengths_text, out;
  int64_t loss_chunk = 2048;
  RuntimeArgs runtime;
  RopeArgs rope;
  rope.method = "none,pi,ntk,dynamic-ntk,yarn";
  DataArgs data_args;
  po::options_description o("Curve");
  o.add_options()
      ("model", po::value(&model_dir)->required(), kModelHelp)
      ("lengths", po::value(&lengths_text)->required(), "context lengths, comma-separated (e.g. 256,512,1k,2k)")
      ("out", po::value(&out)->required(), "output prefix: writes PREFIX.csv and PREFIX.json")
      ("loss-chunk", po::value(&loss_chunk)->default_value(loss_chunk), "positions per LM-head/cross-entropy block");
  o.add(data_options(data_args, "documents (file or directory); the same ones are scored at every length"))
      .add(rope_options(rope, /*allow_list=*/true))
      .add(runtime_options(runtime));
  if (!parse_command_line("curve", "--model DIR --data PATH --lengths 256,512,... --out PREFIX [--method none,pi,table:T.json]",
                          args, o))
    return 0;
  std::vector<int64_t> lengths;
  for (const std::string& l : split_list(lengths_text)) lengths.push_back(parse_length(l, "--lengths"));
  if (lengths.empty()) throw std::invalid_argument("--lengths is empty");
  for (int64_t l : lengths)
    if (l < 2) throw std::invalid_argument(fmt::format("--lengths: {} is too short", l));
  const std::vector<std::string> methods = split_list(rope.method);
  if (methods.empty()) throw std::invalid_argument("--method is empty");
  std::vector<RopeMethodSpec> specs;
  for (const std::string& m : methods) specs.push_back(make_rope_spec(rope, m));  // tables are read (and checked) up front

  const ModelOptions model_options = make_model_options(runtime);
  const LlamaModel loaded = LlamaModel::load(model_dir, model_options);
  LlamaConfig config = loaded.config();
  const std::optional<int64_t> bos = apply_data_args(data_args, config, model_dir);
  const LlamaModel model(config, loaded.weights(), model_options);
  const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  // Documents long enough for the longest window, so every point scores the same text.
  const std::vector<Document> docs =
      documents_for_length(data_args, load_all_documents(data_args, data_args.data), data_args.data, longest, bos.has_value());

  json results = json::array();
  std::string csv = "length,method,ppl,ppl_stderr,mean_nll,documents,beyond_original\n";
  Progress progress("curve", lengths.size() * methods.size());
  size_t done = 0;
  for (int64_t length : lengths) {
    PerplexityEvaluator evaluator(model, PerplexityOptions{length, bos, loss_chunk, 1});
    for (size_t i = 0; i < methods.size(); ++i) {
      const RopeScaling scaling = make_rope_scaling(config, specs[i], length);
      const PerplexityResult r = evaluator.evaluate(docs, scaling);
      const bool beyond = length > config.original_max_position_embeddings;
      csv += fmt::format("{},{},{:.6f},{:.6f},{:.6f},{},{}\n", length, methods[i], r.ppl, r.ppl * r.nll_stderr, r.mean_nll,
                         r.documents.size(), beyond ? 1 : 0);
      results.push_back({{"length", length}, {"method", methods[i]}, {"ppl", r.ppl}, {"ppl_stderr", r.ppl * r.nll_stderr},
                         {"mean_nll", r.mean_nll}, {"documents", r.documents.size()}, {"attention_factor", scaling.attention_factor},
                         {"start_tokens", scaling.start_tokens}});
      progress.update(++done, fmt::format("{} @ {}: ppl {:.3f}", methods[i], length, r.ppl));
    }
  }
  progress.finish();
  const json j = {{"model", model_dir}, {"data", data_args.data}, {"original_length", config.original_max_position_embeddings},
                  {"lengths", lengths}, {"methods", methods}, {"documents", docs.size()}, {"results", results}};
  formats::write_file_atomically(out + ".csv", csv);
  formats::write_file_atomically(out + ".json", j.dump(2) + "\n");
  // The table a reader wants: one row per length, one column per method.
  fmt::print("{:>8}", "length");
  for (const std::string& m : methods) fmt::print(" {:>14}", m.rfind("table:", 0) == 0 ? "longrope table" : m);
  fmt::print("\n");
  size_t k = 0;
  for (int64_t length : lengths) {
    fmt::print("{:>7}{}", length, length > config.original_max_position_embeddings ? "*" : " ");
    for (size_t i = 0; i < methods.size(); ++i) fmt::print(" {:>14.4f}", results[k++]["ppl"].get<double>());
    fmt::print("\n");
  }
  fmt::print("(* beyond the original length {}; {} documents)\nwrote {}.csv and {}.json\n", config.original_max_position_embeddings,
             docs.size(), out, out);
  return 0;
}

}  // namespace longrope
