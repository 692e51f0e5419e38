// Shared option groups and their translation into library arguments.
#include "cli/shared_options.h"

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include <c10/core/ScalarType.h>

#include "eval/memory_estimate.h"
#include "tables/factor_table.h"
#include "util/named_enum.h"
#include "cli/cli_util.h"
#include "util/errors.h"

namespace po = boost::program_options;

namespace longrope {

po::options_description model_options(ModelArgs& a) {
  po::options_description d("Model");
  d.add_options()
      ("model", po::value(&a.path)->required(), kModelHelp)
      ("original-length", po::value(&a.original_length)->default_value(a.original_length),
       "override the pre-training length L (0: from the model's config)")
      ("random-weights", po::value<int64_t>()->notifier([&a](int64_t seed) {
         if (seed < 0) throw UsageError(fmt::format("--random-weights must be a seed >= 0, got {}", seed));
         a.random_weights_seed = static_cast<uint64_t>(seed);
       }), "benchmarks only: --model is a config.json alone, and the weights are random from this seed, made on the device");
  return d;
}

po::options_description data_options(DataArgs& a, const std::string& data_help) {
  po::options_description d("Documents");
  d.add_options()
      ("data", po::value(&a.path)->required(), data_help.c_str())
      ("docs", po::value(&a.docs)->default_value(a.docs), "documents to score (the first K long enough)")
      ("min-tokens", po::value(&a.min_tokens)->default_value(a.min_tokens), "keep documents with at least this many tokens (0: the window)")
      ("sample-seed", po::value<int64_t>()->default_value(-1)->notifier([&a](int64_t seed) {
         if (seed < -1) throw UsageError(fmt::format("--sample-seed must be a seed >= 0, or -1 for the first K, got {}", seed));
         if (seed >= 0) a.sample_seed = static_cast<uint64_t>(seed);
       }), "draw the K documents at random with this seed (-1: the first K)")
      ("token-format", po::value(&a.token_format)->default_value(a.token_format), "auto (by extension), text, u16, u32 or npy")
      ("tokenizer", po::value(&a.tokenizer)->default_value(a.tokenizer),
       "for text files: auto (the model's own: a GGUF's vocabulary, else tokenizer.json or tokenizer.model beside config.json, "
       "else bytes), bytes (one token per byte), or a tokenizer.json, .gguf or SentencePiece tokenizer.model")
      ("bos", po::value(&a.bos)->default_value(a.bos), "auto (as the model defines it: its tokenizer's rule, else the config's "
       "bos_token_id), none, or a token id")
      ("windows", po::value(&a.windows)->default_value(a.windows),
       "non-overlapping windows scored per document (1, with --skip-tokens 0 and no --window-seed: the LongRoPE paper's and "
       "reference's scoring, each document's first window)")
      ("skip-tokens", po::value(&a.skip_tokens)->default_value(a.skip_tokens),
       "a document's opening tokens never scored (a book's title page and contents)")
      ("window-seed", po::value<int64_t>()->notifier([&a](int64_t seed) {
         if (seed < 0) throw UsageError(fmt::format("--window-seed must be >= 0, got {}", seed));
         a.window_seed = static_cast<uint64_t>(seed);
       }), "draw each document's windows at random among its slots with this seed (default: the first ones)");
  return d;
}

std::vector<formats::ReadPath> model_inputs(const ModelArgs& a) { return {{"--model", a.path}}; }

std::vector<formats::ReadPath> data_inputs(const DataArgs& a) {
  std::vector<formats::ReadPath> out = {{"--data", a.path}};
  if (a.tokenizer != "auto" && a.tokenizer != "bytes") out = joined(out, tokenizer_inputs(a.tokenizer));
  return out;
}

std::vector<formats::ReadPath> tokenizer_inputs(const std::string& tokenizer) {
  std::vector<formats::ReadPath> out = {{"--tokenizer", tokenizer}};
  if (std::filesystem::path(tokenizer).extension() == ".json")
    out.push_back({"--tokenizer", (std::filesystem::path(tokenizer).parent_path() / "tokenizer_config.json").string()});
  return out;
}

std::vector<formats::ReadPath> joined(std::vector<formats::ReadPath> a, const std::vector<formats::ReadPath>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void require_window_memory(const EvaluationSetup& setup, int64_t length, int64_t batch, bool decoding, const std::string& setting,
                           const std::string& batch_setting) {
  ForwardShape shape;
  shape.tokens = length;
  shape.batch = 1;
  shape.dtype_bytes = static_cast<int64_t>(c10::elementSize(setup.model().dtype()));
  shape.logit_positions = decoding ? 1 : std::min(length, setup.runtime().loss_chunk);
  shape.kv_cache = decoding;
  require_forward_memory(setup.config(), shape, setup.runtime().device, setting);
  // One window fits: a batch that does not is the batch option's to blame, not the length's.
  shape.batch = batch;
  if (batch > 1) require_forward_memory(setup.config(), shape, setup.runtime().device, batch_setting);
}

po::options_description runtime_options(RuntimeArgs& a, RuntimeOptionSet set) {
  po::options_description d("Runtime");
  d.add_options()
      ("device", po::value(&a.device)->default_value(a.device), "cpu, cuda or cuda:N")
      ("dtype", po::value(&a.dtype)->default_value(a.dtype), "weights and activations: f32, bf16 or f16 (RoPE angles are always computed in f64)")
      ("threads", po::value(&a.threads)->default_value(a.threads), "CPU threads for LibTorch (0: all cores)")
      ("attention", po::value(&a.attention)->default_value(a.attention), "auto, chunked, sdpa (LibTorch >= 2), full or flash-cpu (the tool's AVX2 kernel; auto takes it for CPU f32)");
  if (set != RuntimeOptionSet::Training)
    d.add_options()("sliding-window", po::value(&a.sliding_window)->default_value(a.sliding_window),
                    "honour a Mistral sliding window (LongRoPE runs with it off)");
  if (set == RuntimeOptionSet::Scoring)
    d.add_options()("loss-chunk", po::value(&a.loss_chunk)->default_value(a.loss_chunk), "positions per LM-head/cross-entropy block");
  return d;
}

po::options_description rope_options(RopeArgs& a, bool allow_list, bool decoding) {
  static const std::string methods =
      "config (the checkpoint's own rope_scaling, as transformers applies it), none, pi, ntk (static base change b·s^(d/(d−2))), "
      "dynamic-ntk (transformers' dynamic type at the window length T with factor --scale, default 1: NTK at s = T/L), yarn, "
      "longrope (--table) or table:FILE";
  static const std::string list_help = methods + "; a comma-separated list evaluates each";
  po::options_description d("RoPE scaling");
  d.add_options()
      ("method", po::value(&a.method)->default_value(a.method), allow_list ? list_help.c_str() : methods.c_str())
      ("scale", po::value(&a.scale)->default_value(a.scale), "extension ratio s (0: length / original length; a table's own s)")
      ("table", po::value(&a.table), "factor table for longrope: a longrope .json table or a reference result_final.csv")
      ("start-tokens", po::value(&a.start_tokens)->default_value(a.start_tokens), "override n̂ (-1: the table's)")
      ("attention-factor", po::value(&a.attention_factor)->default_value(a.attention_factor), "override the attention factor (0: the table's, else LongRoPE's su)")
      ("runtime", po::value(&a.runtime),
       "apply each method as this runtime applies its exported config: transformers (short factors up to L, long beyond), vllm "
       "(one set for the server, by --max-model-len) or llama.cpp (by the context per sequence, padded to 256); no n̂, and PI, "
       "NTK, YaRN at one fixed --scale (default: the table's s). Default: our forward, the table as searched at every length")
      ("max-model-len", po::value(&a.max_model_len)->default_value(a.max_model_len), "with --runtime vllm: the server's --max-model-len (0: the table's target length)")
      ("n-ctx", po::value(&a.n_ctx)->default_value(a.n_ctx), "with --runtime llama.cpp: the context per sequence (0: each window's length, as llama-perplexity -c runs)")
      ("compose-with", po::value(&a.compose_with),
       "a table a model was fine-tuned with (LongRoPE's progressive recipe): none, PI, NTK, dynamic NTK and YaRN run on top of it "
       "(λ multiplied, attention factors multiplied, s = length / its target length unless --scale); tables are left as they are");
  if (decoding)
    d.add_options()("decode-from", po::value(&a.decode_from)->default_value(a.decode_from),
                    "with --runtime transformers: the first N tokens are a prefill and the rest are decoded one at a time through the KV "
                    "cache (keys cached up to L keep the short factors); 0: one forward");
  return d;
}

std::vector<RopeMethodSpec> make_rope_specs(const RopeArgs& a, const std::vector<std::string>& methods) {
  if (methods.empty()) throw UsageError("--method is empty");
  std::vector<RopeMethodSpec> specs;
  bool any_table = false;
  for (size_t i = 0; i < methods.size(); ++i) {  // a method may repeat: benchmarks time repeated passes
    specs.push_back(make_rope_spec(a, methods[i]));
    any_table = any_table || specs.back().method == RopeMethod::LongRoPE;
  }
  apply_runtime(a, specs);
  // These shape a longrope table only; given for PI or YaRN alone they would be silently unused.
  if (!any_table && (!a.table.empty() || a.start_tokens != -1 || a.attention_factor != 0))
    throw UsageError("--table, --start-tokens and --attention-factor apply to a longrope table (--method longrope or table:FILE)");
  return specs;
}

void apply_runtime(const RopeArgs& a, std::vector<RopeMethodSpec>& specs) {
  if (a.runtime.empty()) {
    if (a.max_model_len != 0 || a.n_ctx != 0 || a.decode_from != 0)
      throw UsageError("--max-model-len, --n-ctx and --decode-from apply a runtime's rule: they need --runtime");
    return;
  }
  const std::optional<Runtime> runtime = enum_from_name(kRuntimeNames, a.runtime);
  if (!runtime) throw UsageError(fmt::format("--runtime: '{}' is not {}", a.runtime, enum_choices(kRuntimeNames)));
  if (a.max_model_len < 0 || a.n_ctx < 0 || a.decode_from < 0) throw UsageError("--max-model-len, --n-ctx and --decode-from must be >= 0");
  if (a.max_model_len > 0 && *runtime != Runtime::VLLM) throw UsageError("--max-model-len is vLLM's: it needs --runtime vllm");
  if (a.n_ctx > 0 && *runtime != Runtime::LlamaCpp) throw UsageError("--n-ctx is llama.cpp's: it needs --runtime llama.cpp");
  if (a.decode_from > 0 && *runtime != Runtime::Transformers) throw UsageError("--decode-from needs --runtime transformers");
  // A deployed config holds one factor: the baselines take the table's s unless --scale names one.
  const RopeMethodSpec* with_table = nullptr;
  for (const RopeMethodSpec& s : specs)
    if (!with_table && s.table && s.table->scale > 0) with_table = &s;
  const std::optional<double> fixed_scale = a.scale > 0 ? std::optional<double>(a.scale)
                                            : with_table ? std::optional<double>(with_table->table->scale) : std::nullopt;
  int64_t max_model_len = a.max_model_len;
  if (*runtime == Runtime::VLLM && max_model_len == 0) {
    if (!with_table || with_table->table->target_length <= 0)
      throw UsageError("--runtime vllm needs --max-model-len (the server's; no table names a target length to take it from)");
    max_model_len = with_table->table->target_length;
  }
  for (RopeMethodSpec& s : specs) {
    s.runtime = RuntimeRule{*runtime, max_model_len, a.n_ctx};
    if (a.decode_from > 0) s.decode_from = a.decode_from;
    if (s.method != RopeMethod::LongRoPE && !s.scale) s.scale = fixed_scale;
    if (s.table && s.table->start_tokens > 0 && !s.overrides.start_tokens)
      fmt::print(stderr, "warning: {}: n̂ = {} is dropped: {} applies λ at every position\n", s.table_source, s.table->start_tokens,
                 a.runtime);
  }
}

RopeMethodSpec make_rope_spec(const RopeArgs& a, const std::string& method_text) {
  // "table:FILE" names a table inline, so one list can compare several tables.
  const bool inline_table = method_text.rfind("table:", 0) == 0;
  const std::string table = inline_table ? method_text.substr(6) : a.table;
  const std::optional<RopeMethod> method = inline_table ? RopeMethod::LongRoPE : enum_from_name(kRopeMethodNames, method_text);
  if (!method)
    throw UsageError(fmt::format("--method: unknown RoPE method '{}' ({}, or table:FILE)", method_text, enum_choices(kRopeMethodNames)));
  RopeMethodSpec s;
  s.method = *method;
  if (a.scale != 0) {
    if (!(a.scale >= 1 && a.scale <= 1e6)) throw UsageError(fmt::format("--scale must be in [1, 10^6], got {}", a.scale));
    s.scale = a.scale;
  }
  if (s.method == RopeMethod::LongRoPE) {
    if (table.empty()) throw UsageError("--method longrope needs --table FILE (or --method table:FILE)");
    s.table = read_factor_table(table);
    s.table_source = table;
  }
  if (!a.compose_with.empty()) {
    s.compose_with = read_factor_table(a.compose_with);
    s.compose_source = a.compose_with;
  }
  if (a.start_tokens < -1) throw UsageError(fmt::format("--start-tokens must be >= 0, or -1 for the table's, got {}", a.start_tokens));
  if (a.start_tokens >= 0) s.overrides.start_tokens = a.start_tokens;
  // It scales the attention logits by its square; LongRoPE's and YaRN's stay below 5 for any extension.
  if (!(a.attention_factor >= 0 && a.attention_factor <= 10))
    throw UsageError(fmt::format("--attention-factor must be a positive number of at most 10, got {}", a.attention_factor));
  if (a.attention_factor > 0) s.overrides.attention_factor = a.attention_factor;
  return s;
}

RopeMethods read_rope_methods(const RopeArgs& a) {
  RopeMethods m;
  m.names = split_option_list(a.method, "--method");
  m.specs = make_rope_specs(a, m.names);
  for (size_t i = 0; i < m.specs.size(); ++i)
    m.scalings.push_back({m.names[i], [spec = m.specs[i]](const LlamaConfig& c, int64_t l) { return make_rope_scaling(c, spec, l); }});
  return m;
}

std::vector<formats::ReadPath> RopeMethods::inputs(const RopeArgs& a) const {
  std::vector<formats::ReadPath> out = {{"--table", a.table}};
  for (const RopeMethodSpec& spec : specs) out.push_back({"--method table:", spec.table_source});
  out.push_back({"--compose-with", a.compose_with});
  return out;
}

void RopeMethods::check(const LlamaConfig& config, const std::vector<int64_t>& lengths) const {
  for (const NamedScaling& s : scalings)
    for (const int64_t length : lengths) s.at_length(config, length);
}

}  // namespace longrope
