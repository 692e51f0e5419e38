// longrope passkey: passkey retrieval accuracy against prompt length for several RoPE methods on the
// same prompts (LongRoPE's evaluation/passkey.py), as CSV and JSON.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/shared_options.h"
#include "eval/passkey.h"
#include "formats/atomic_file.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace longrope {

int passkey_command(const std::vector<std::string>& args) {
  std::string lengths_text, out;
  int64_t seed = 42;
  PasskeyOptions options;
  ModelArgs model;
  RuntimeArgs runtime;
  RopeArgs rope;
  DataArgs data;  // the tokenizer and BOS options only: the prompts are made, not read
  rope.method = "none,yarn";
  po::options_description o("Passkey");
  o.add_options()
      ("lengths", po::value(&lengths_text)->required(), "prompt lengths in tokens, comma-separated (e.g. 2k,4k,8k)")
      ("samples", po::value(&options.samples)->default_value(options.samples), "prompts per length (the same for every method)")
      ("seed", po::value(&seed)->default_value(seed), "seed of the prompts' passkeys and depths")
      ("new-tokens", po::value(&options.new_tokens)->default_value(options.new_tokens), "tokens decoded greedily after the prompt")
      ("out", po::value(&out)->required(), "output prefix: writes PREFIX.csv and PREFIX.json")
      ("tokenizer", po::value(&data.tokenizer)->default_value(data.tokenizer),
       "auto (the model's own), bytes, or a tokenizer.json or .gguf (a byte-level BPE: passkey decodes in this process)")
      ("bos", po::value(&data.bos)->default_value(data.bos), "auto (as the model defines it), none, or a token id");
  o.add(model_options(model)).add(rope_options(rope, /*allow_list=*/true)).add(runtime_options(runtime, RuntimeOptionSet::Decoding));
  if (!parse_command_line("passkey", "--model DIR --lengths 2k,4k --out PREFIX [--method none,yarn,table:T.json]", args, o)) return 0;
  options.lengths = parse_lengths(lengths_text, "--lengths");
  if (options.lengths.empty()) throw UsageError("--lengths is empty");
  options.seed = parse_seed(seed, "--seed");
  options.validate();
  const RopeMethods rope_methods = read_rope_methods(rope);
  const std::vector<NamedScaling>& methods = rope_methods.scalings;
  const std::vector<std::string> outputs = prefixed_outputs(out, "--out", {".csv", ".json"});
  formats::check_output_files("--out", outputs, joined(model_inputs(model), joined(data_inputs(data), rope_methods.inputs(rope))));

  const EvaluationSetup setup = open_evaluation(model, data, runtime);
  rope_methods.check(setup.config(), options.lengths);
  for (const int64_t length : options.lengths) require_window_memory(setup, length + options.new_tokens, 1, /*decoding=*/true, "lengths");
  const int64_t original = setup.config().original_max_position_embeddings;
  json rows = json::array();
  std::string csv = "length,method,correct,samples,accuracy,beyond_original\n";
  fmt::print("{:>8} {:<24} {:>9}\n", "length", "method", "accuracy");
  passkey_accuracy(setup, methods, options, [&](const PasskeyRow& row) {
    json samples = json::array();
    for (const PasskeySample& s : row.samples)
      samples.push_back({{"prompt_tokens", s.prompt_tokens}, {"passkey", s.passkey}, {"depth_tokens", s.depth_tokens},
                         {"answer", s.answer}, {"correct", s.correct}});
    const double accuracy = static_cast<double>(row.correct) / static_cast<double>(row.samples.size());
    rows.push_back({{"length", row.length}, {"method", row.method}, {"correct", row.correct}, {"samples", row.samples.size()},
                    {"accuracy", accuracy}, {"seconds", row.seconds}, {"prompts", samples}});
    csv += fmt::format("{},{},{},{},{:.4f},{}\n", row.length, row.method, row.correct, row.samples.size(), accuracy,
                       row.length > original ? 1 : 0);
    fmt::print("{:>7}{} {:<24} {:>4}/{:<4}\n", row.length, row.length > original ? "*" : " ", row.method, row.correct, row.samples.size());
  });
  const json j = {{"model", model.path}, {"original_length", original}, {"samples", options.samples}, {"seed", options.seed},
                  {"new_tokens", options.new_tokens}, {"lengths", options.lengths}, {"methods", rope_methods.names}, {"results", rows}};
  formats::write_files_atomically({{outputs[0], csv}, {outputs[1], j.dump(2) + "\n"}});
  fmt::print("(* beyond the original length {})\nwrote {}.csv and {}.json\n", original, out, out);
  return 0;
}

}  // namespace longrope
