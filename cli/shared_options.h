// The options several commands share, declared once: the model, the documents, how to run the model,
// and the RoPE method. Each command adds the groups it needs to its own description.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>

#include "eval/method_comparison.h"
#include "eval/open_evaluation.h"
#include "formats/output_paths.h"
#include "models/model_runtime.h"
#include "models/rope_methods.h"

namespace longrope {

inline constexpr const char* kModelHelp =
    "model directory (config.json + safetensors) or a llama-architecture .gguf file";

// --model, --original-length.
boost::program_options::options_description model_options(ModelArgs& args);
// --data (described by `data_help`), --docs, --min-tokens, --sample-seed, --token-format, --tokenizer, --bos.
boost::program_options::options_description data_options(DataArgs& args, const std::string& data_help);
// Which runtime options a command reads: scoring commands take --loss-chunk, training neither that
// nor --sliding-window (it trains the model as its config defines it).
enum class RuntimeOptionSet { Scoring, Decoding, Training };
// What the model and data options read, for the output rule (formats/output_paths.h): --model, and
// --data and --tokenizer when they name files.
std::vector<formats::ReadPath> model_inputs(const ModelArgs& args);
std::vector<formats::ReadPath> data_inputs(const DataArgs& args);
// A tokenizer as read: the file, and beside a tokenizer.json the tokenizer_config.json its BOS rule is
// read from.
std::vector<formats::ReadPath> tokenizer_inputs(const std::string& tokenizer);
// a then b.
std::vector<formats::ReadPath> joined(std::vector<formats::ReadPath> a, const std::vector<formats::ReadPath>& b);

// Refuses a window of `length` tokens (`batch` per forward; `decoding`: with a KV cache) whose forward
// would not fit this machine's memory, naming `setting` when one window does not fit, else
// `batch_setting` (eval/memory_estimate.h).
void require_window_memory(const EvaluationSetup& setup, int64_t length, int64_t batch, bool decoding, const std::string& setting,
                           const std::string& batch_setting = "batch");

// --device, --dtype, --threads, --attention, and as `set` says --sliding-window and --loss-chunk.
boost::program_options::options_description runtime_options(RuntimeArgs& args, RuntimeOptionSet set = RuntimeOptionSet::Scoring);

struct RopeArgs {
  std::string method = "config";
  double scale = 0;                // 0: length / original length
  std::string table;               // longrope: a table .json or a reference .csv
  int64_t start_tokens = -1;       // -1: the table's
  double attention_factor = 0;     // 0: the table's, else "su"
  std::string runtime;             // empty: our own forward (the table as searched); else a runtime's rule
  int64_t max_model_len = 0;       // vllm: the server's --max-model-len (0: the table's target length)
  int64_t n_ctx = 0;               // llama.cpp: the context per sequence (0: the window)
  int64_t decode_from = 0;         // transformers: prefill this many tokens, decode the rest (0: one forward)
  std::string compose_with;        // baselines on top of this table (a model fine-tuned with it)
};
// --method, --scale, --table, --start-tokens, --attention-factor, --runtime, --max-model-len, --n-ctx
// and, with `decoding`, --decode-from.
boost::program_options::options_description rope_options(RopeArgs& args, bool allow_list, bool decoding = false);

// One method name → spec, reading --table when the method is longrope, or FILE for "table:FILE";
// throws UsageError for an unknown method or an option out of range.
RopeMethodSpec make_rope_spec(const RopeArgs& args, const std::string& method);
// --runtime and its options on every spec: the rule, fixed baselines at the table's s (or --scale), n̂ dropped.
void apply_runtime(const RopeArgs& args, std::vector<RopeMethodSpec>& specs);
// Every method of a list (one may repeat: benchmarks time repeated passes); the table options only
// where a table is evaluated.
std::vector<RopeMethodSpec> make_rope_specs(const RopeArgs& args, const std::vector<std::string>& methods);

// --method's list, read (tables too) before any model loads, as the scalings eval, curve and passkey run.
struct RopeMethods {
  std::vector<std::string> names;  // as given ("yarn", "table:T.json")
  std::vector<RopeMethodSpec> specs;
  std::vector<NamedScaling> scalings;

  // The tables read, for the output rule.
  std::vector<formats::ReadPath> inputs(const RopeArgs& args) const;
  // Builds every scaling at every length once, so that a table that does not fit the model fails in one
  // line before anything is printed or scored.
  void check(const LlamaConfig& config, const std::vector<int64_t>& lengths) const;
};
RopeMethods read_rope_methods(const RopeArgs& args);

}  // namespace longrope
