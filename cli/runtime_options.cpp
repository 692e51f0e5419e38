// Shared option groups and their translation into library settings.
#include "cli/runtime_options.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <stdexcept>
#include <thread>

#include "export/factor_table.h"

namespace po = boost::program_options;

namespace longrope {

po::options_description runtime_options(RuntimeArgs& a) {
  po::options_description d("Runtime");
  d.add_options()
      ("device", po::value(&a.device)->default_value(a.device), "cpu, cuda or cuda:N")
      ("dtype", po::value(&a.dtype)->default_value(a.dtype), "weights and activations: f32, bf16 or f16 (RoPE angles are always computed in f64)")
      ("threads", po::value(&a.threads)->default_value(a.threads), "CPU threads for LibTorch (0: all cores)")
      ("attention", po::value(&a.attention)->default_value(a.attention), "auto, chunked, sdpa (LibTorch >= 2) or full")
      ("sliding-window", po::value(&a.sliding_window)->default_value(a.sliding_window), "honour a Mistral sliding window (LongRoPE runs with it off)");
  return d;
}

po::options_description rope_options(RopeArgs& a, bool allow_list) {
  po::options_description d("RoPE scaling");
  d.add_options()
      ("method", po::value(&a.method)->default_value(a.method),
       allow_list ? "config, none, pi, ntk, dynamic-ntk, yarn or longrope; a comma-separated list evaluates each"
                  : "config, none, pi, ntk, dynamic-ntk, yarn or longrope")
      ("scale", po::value(&a.scale)->default_value(a.scale), "extension ratio s (0: length / original length)")
      ("table", po::value(&a.table), "factor table for longrope: a longrope .json table or a reference result_final.csv")
      ("start-tokens", po::value(&a.start_tokens)->default_value(a.start_tokens), "override n̂ (-1: the table's)")
      ("attention-factor", po::value(&a.attention_factor)->default_value(a.attention_factor), "override the attention factor (0: the table's, else LongRoPE's su)");
  return d;
}

ModelOptions make_model_options(const RuntimeArgs& a) {
  ModelOptions o;
  o.load.device = c10::Device(a.device);
  if (o.load.device.is_cuda() && !at::hasCUDA())
    throw std::invalid_argument(fmt::format("--device {}: this build or machine has no CUDA", a.device));
  o.load.dtype = parse_dtype(a.dtype);
  if (a.threads < 0) throw std::invalid_argument(fmt::format("--threads must be >= 0, got {}", a.threads));
  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);  // LibTorch may start with one thread
  o.attention.backend = parse_attention_backend(a.attention);
  o.disable_sliding_window = !a.sliding_window;
  return o;
}

RopeMethodSpec make_rope_spec(const RopeArgs& a, const std::string& method_text) {
  // "table:FILE" names a table inline, so one list can compare several tables.
  const bool inline_table = method_text.rfind("table:", 0) == 0;
  const std::string method = inline_table ? "longrope" : method_text;
  const std::string table = inline_table ? method_text.substr(6) : a.table;
  RopeMethodSpec s;
  s.method = method;
  if (a.scale != 0) {
    if (a.scale < 1) throw std::invalid_argument(fmt::format("--scale must be >= 1, got {}", a.scale));
    s.scale = a.scale;
  }
  if (method == "longrope") {
    if (table.empty()) throw std::invalid_argument("--method longrope needs --table FILE (or --method table:FILE)");
    const FactorTable t = read_factor_table(table);
    s.lambda = t.lambda;
    s.start_tokens = t.start_tokens;
    s.attention_factor = t.attention_factor;
    if (!s.scale && t.scale > 0) s.scale = t.scale;
  }
  if (a.start_tokens >= 0) s.start_tokens = a.start_tokens;
  if (a.attention_factor < 0) throw std::invalid_argument("--attention-factor must be positive");
  if (a.attention_factor > 0) s.attention_factor = a.attention_factor;
  return s;
}

}  // namespace longrope
