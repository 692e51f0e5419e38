// longrope eval: perplexity on long documents at one length, for one or more RoPE methods.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/data_options.h"
#include "util/progress.h"
#include "cli/runtime_options.h"
#include "eval/documents.h"
#include "eval/perplexity.h"
#include "formats/atomic_file.h"

namespace po = boost::program_options;

namespace longrope {

int eval_command(const std::vector<std::string>& args) {
  std::string model_dir, json_out, length_text;
  int64_t length = 0, batch = 1, loss_chunk = 2048;
  RuntimeArgs runtime;
  RopeArgs rope;
  DataArgs data_args;
  po::options_description o("Evaluation");
  o.add_options()
      ("model", po::value(&model_dir)->required(), kModelHelp)
      ("length", po::value(&length_text)->required(), "tokens per document window, BOS included (e.g. 2048 or 2k)")
      ("batch", po::value(&batch)->default_value(batch), "documents per forward")
      ("loss-chunk", po::value(&loss_chunk)->default_value(loss_chunk), "positions per LM-head/cross-entropy block")
      ("json", po::value(&json_out), "also write the result as JSON to this file");
  o.add(data_options(data_args, "a document or a directory of them (.txt, .npy, .u16, .u32)"))
      .add(rope_options(rope, /*allow_list=*/true))
      .add(runtime_options(runtime));
  if (!parse_command_line("eval", "--model DIR --data PATH --length N [options]", args, o)) return 0;
  length = parse_length(length_text, "--length");
  if (length < 2) throw std::invalid_argument(fmt::format("--length must be at least 2, got {}", length));
  const std::vector<std::string> methods = split_list(rope.method);
  if (methods.empty()) throw std::invalid_argument("--method is empty");
  const std::string& data = data_args.data;

  ModelOptions model_options = make_model_options(runtime);
  LlamaModel model = LlamaModel::load(model_dir, model_options);
  LlamaConfig config = model.config();
  const std::optional<int64_t> bos_id = apply_data_args(data_args, config, model_dir);
  const std::vector<Document> documents = documents_for_length(data_args, load_all_documents(data_args, data), data, length, bos_id.has_value());

  // The evaluator reads geometry from the model; an --original-length override must reach it too.
  LlamaModel evaluated(config, model.weights(), model_options);
  PerplexityEvaluator evaluator(evaluated, PerplexityOptions{length, bos_id, loss_chunk, batch});
  nlohmann::json results = nlohmann::json::array();
  fmt::print("model {}  ({} parameters, {}, {})\n", model_dir, evaluated.parameter_count(), runtime.device, dtype_name(model_options.load.dtype));
  fmt::print("data  {}  ({} documents, window {} tokens, original length {})\n\n", data, documents.size(), length,
             config.original_max_position_embeddings);
  fmt::print("{:<12} {:>7} {:>5} {:>12} {:>9} {:>10} {:>10}\n", "method", "scale", "n̂", "ppl", "± (1σ)", "mean NLL", "tokens/s");
  for (const std::string& method : methods) {
    const RopeMethodSpec spec = make_rope_spec(rope, method);
    const RopeScaling scaling = make_rope_scaling(config, spec, length);
    Progress progress("eval " + method, documents.size());
    const PerplexityResult r = evaluator.evaluate(documents, scaling, [&](size_t done, size_t total) {
      (void)total;
      progress.update(done);
    });
    progress.finish();
    const double scale = spec.scale.value_or(std::max(1.0, static_cast<double>(length) / config.original_max_position_embeddings));
    const double ppl_err = r.ppl * r.nll_stderr;  // delta method
    const double tps = static_cast<double>(r.predictions + static_cast<int64_t>(r.documents.size())) / r.seconds;
    fmt::print("{:<12} {:>7.3f} {:>5} {:>12.4f} {:>9.4f} {:>10.5f} {:>10.1f}\n", method, scale, scaling.start_tokens, r.ppl,
               ppl_err, r.mean_nll, tps);
    nlohmann::json docs_json = nlohmann::json::array();
    for (const auto& d : r.documents) docs_json.push_back({{"name", d.name}, {"mean_nll", d.mean_nll}, {"predictions", d.predictions}});
    results.push_back({{"method", method}, {"scale", scale}, {"ppl", r.ppl}, {"ppl_stderr", ppl_err}, {"mean_nll", r.mean_nll},
                       {"nll_stderr", r.nll_stderr}, {"predictions", r.predictions}, {"seconds", r.seconds},
                       {"tokens_per_second", tps}, {"lambda", scaling.lambda}, {"start_tokens", scaling.start_tokens},
                       {"attention_factor", scaling.attention_factor}, {"documents", docs_json}});
  }
  if (!json_out.empty()) {
    nlohmann::json j = {{"model", model_dir}, {"data", data}, {"length", length},
                        {"original_length", config.original_max_position_embeddings}, {"device", runtime.device},
                        {"dtype", dtype_name(model_options.load.dtype)}, {"bos", bos_id ? nlohmann::json(*bos_id) : nlohmann::json(nullptr)},
                        {"results", results}};
    j["ppl"] = results[0]["ppl"];  // the first (usually only) method, for scripts
    j["method"] = results[0]["method"];
    formats::write_file_atomically(json_out, j.dump(2) + "\n");
  }
  return 0;
}

}  // namespace longrope
