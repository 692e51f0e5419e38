// longrope train: a small byte-level LLaMA trained from scratch on text files, saved as a Hugging Face
// model directory (config.json, model.safetensors, README.md model card) that eval and transformers load.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "util/progress.h"
#include "cli/shared_options.h"
#include "formats/atomic_file.h"
#include "eval/memory_estimate.h"
#include "formats/output_paths.h"
#include "tables/table_scaling.h"
#include "models/llama_config.h"
#include "train/trainer.h"

namespace po = boost::program_options;

namespace longrope {
namespace {

// The command as a shell would re-run it, for the model card.
std::string shell_command_line(const std::vector<std::string>& args) {
  std::string line = "longrope train";
  for (const std::string& a : args) {
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,+") == std::string::npos;
    line += " ";
    if (plain) {
      line += a;
      continue;
    }
    line += "'";
    for (char c : a) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += "'";
  }
  return line;
}

// --init: the shape and θ of the model continued from, where the options did not give them (a given
// one that differs is refused by the trainer, naming the field), and its pre-training length.
void continue_from(const std::string& dir, const po::variables_map& given, TrainConfig& t) {
  const LlamaConfig c = load_llama_config((std::filesystem::path(dir) / "config.json").string());
  const auto take = [&](const char* option, auto& field, auto value) {
    if (given[option].defaulted()) field = value;
  };
  take("vocab-size", t.vocab_size, c.vocab_size);
  take("hidden", t.hidden_size, c.hidden_size);
  take("layers", t.num_layers, c.num_hidden_layers);
  take("heads", t.num_heads, c.num_attention_heads);
  take("kv-heads", t.num_kv_heads, c.num_key_value_heads);
  take("intermediate", t.intermediate_size, c.intermediate_size);
  take("rope-theta", t.rope_theta, c.rope_theta);
  t.original_length = c.original_max_position_embeddings;
}

// --table: the LongRoPE scaling every training window runs under.
RopeScaling training_rope(const std::string& path, const TrainConfig& t) {
  const FactorTable table = read_factor_table(path);
  if (table.target_length > 0 && t.context > table.target_length)
    throw InvalidSetting("context", fmt::format("{} exceeds the target length {} of the table {}", t.context, table.target_length, path));
  return table_scaling(table, RopeGeometry{t.head_dim(), t.rope_theta, t.original_length}, t.context, path);
}

// --method: a baseline's scaling at every training window (the control of a progressive fine-tune:
// YaRN fine-tuned where the recipe fine-tunes its table).
RopeScaling training_baseline(const std::string& method, double scale, const TrainConfig& t) {
  RopeMethodSpec spec;
  const std::optional<RopeMethod> m = enum_from_name(kRopeMethodNames, method);
  if (!m || (*m != RopeMethod::PI && *m != RopeMethod::NTK && *m != RopeMethod::YaRN))
    throw UsageError(fmt::format("--method: '{}' is not pi, ntk or yarn (a searched table is --table)", method));
  if (!(scale >= 1 && scale <= 1e6)) throw UsageError(fmt::format("--scale must be in [1, 10^6], got {}", scale));
  spec.method = *m;
  spec.scale = scale;
  LlamaConfig c = load_llama_config((std::filesystem::path(t.init_model) / "config.json").string());
  c.original_max_position_embeddings = t.original_length;
  return make_rope_scaling(c, spec, t.context);
}

}  // namespace

int train_command(const std::vector<std::string>& args) {
  TrainConfig t;
  int64_t seed = 0;
  std::vector<std::string> data, valid;
  std::string out, json_out, table_path, method;
  double method_scale = 1;
  RuntimeArgs runtime;
  po::options_description o("Training");
  o.add_options()
      ("data", po::value(&data)->required(), "training text: a file, or a directory of *.txt files (repeatable)")
      ("valid", po::value(&valid), "validation text, file or directory (repeatable; default: the last 5% of --data)")
      ("out", po::value(&out)->required(), "output model directory (config.json, model.safetensors, README.md, train_state/)")
      ("context", po::value(&t.context)->default_value(t.context), "tokens (bytes) per training window")
      ("vocab-size", po::value(&t.vocab_size)->default_value(t.vocab_size), "vocabulary size, >= 256 (ids are bytes)")
      ("hidden", po::value(&t.hidden_size)->default_value(t.hidden_size), "hidden size C")
      ("layers", po::value(&t.num_layers)->default_value(t.num_layers), "decoder layers")
      ("heads", po::value(&t.num_heads)->default_value(t.num_heads), "query heads (head dim = hidden / heads)")
      ("kv-heads", po::value(&t.num_kv_heads)->default_value(t.num_kv_heads), "key/value heads (divides --heads)")
      ("intermediate", po::value(&t.intermediate_size)->default_value(t.intermediate_size), "SwiGLU width (0: 8/3 hidden, rounded up to 64)")
      ("rope-theta", po::value(&t.rope_theta)->default_value(t.rope_theta), "RoPE base")
      ("batch", po::value(&t.batch_size)->default_value(t.batch_size), "windows per step")
      ("steps", po::value(&t.steps)->default_value(t.steps), "optimizer steps")
      ("lr", po::value(&t.lr)->default_value(t.lr), "peak learning rate")
      ("min-lr", po::value(&t.min_lr)->default_value(t.min_lr), "learning rate at the end of the cosine decay")
      ("warmup", po::value(&t.warmup_steps)->default_value(t.warmup_steps), "linear warm-up steps")
      ("weight-decay", po::value(&t.weight_decay)->default_value(t.weight_decay), "AdamW weight decay on 2-D weights")
      ("grad-clip", po::value(&t.grad_clip)->default_value(t.grad_clip), "clip the global gradient norm (0: off)")
      ("eval-every", po::value(&t.eval_every)->default_value(t.eval_every), "evaluate every N steps (0: only at start and end)")
      ("eval-batches", po::value(&t.eval_batches)->default_value(t.eval_batches), "batches of fixed windows per evaluation and split")
      ("checkpoint-every", po::value(&t.checkpoint_every)->default_value(t.checkpoint_every), "write OUT/train_state every N steps (0: never)")
      ("seed", po::value(&seed)->default_value(seed), "seed for weight init and window sampling")
      ("resume", po::bool_switch(&t.resume), "continue from OUT/train_state")
      ("init", po::value(&t.init_model),
       "start from this model directory's weights (continued training); its shape and θ are taken unless given, and must "
       "match when given")
      ("table", po::value(&table_path),
       "with --init: apply this LongRoPE table (.json) at every window, as LongRoPE's progressive recipe fine-tunes at an "
       "extended length; --context at most the table's target length")
      ("method", po::value(&method),
       "with --init: apply pi, ntk or yarn at --scale at every window instead of a table (the baselines' own fine-tune)")
      ("scale", po::value(&method_scale)->default_value(method_scale), "with --method: the extension ratio s")
      ("json", po::value(&json_out), "also write the result (losses, evaluations, tokens/s, settings) as JSON to this file");
  o.add(runtime_options(runtime, RuntimeOptionSet::Training));
  po::variables_map given;
  if (!parse_command_line("train", "--data PATH --out DIR [options]", args, o, &given)) return 0;
  if (!table_path.empty() && t.init_model.empty()) throw UsageError("--table needs --init (the model the table was searched for)");
  // Before hours of training: the model and the JSON must have somewhere to go, and replace no input.
  std::vector<formats::ReadPath> inputs = {{"--init", t.init_model}, {"--table", table_path}};
  for (const std::string& path : data) inputs.push_back({"--data", path});
  for (const std::string& path : valid) inputs.push_back({"--valid", path});
  formats::check_outputs({{"--out", out, formats::WritePath::Kind::Directory}, {"--json", json_out, formats::WritePath::Kind::File}}, inputs);
  if (!t.init_model.empty()) continue_from(t.init_model, given, t);
  if (!table_path.empty()) t.rope = training_rope(table_path, t);
  if (!method.empty() && (t.init_model.empty() || !table_path.empty()))
    throw UsageError("--method needs --init (the model to fine-tune) and no --table");
  if (!method.empty()) t.rope = training_baseline(method, method_scale, t);
  const ModelOptions options = runtime_model_options(runtime);
  set_cpu_threads(runtime);
  t.device = options.load.device;
  t.dtype = options.load.dtype;
  t.attention = options.attention.backend;
  t.threads = runtime.threads;
  t.command_line = shell_command_line(args);
  t.seed = parse_seed(seed, "--seed");
  t.validate();
  const LlamaConfig trained = trained_model_config(t);
  require_weight_memory(trained, 16, runtime.device, "--vocab-size, --hidden, --layers and --intermediate",
                        "the model's float32 weights, gradients and AdamW moments");
  const int64_t eval_rows = t.eval_batches > INT64_MAX / t.batch_size ? INT64_MAX : t.eval_batches * t.batch_size;  // both positive
  require_training_memory(trained, t.context, t.batch_size, eval_rows, runtime.device);

  const bool tty = isatty(fileno(stderr)) != 0;
  // Created at this session's first step and counting from it, so a resumed run's ETA counts this
  // session's steps only, each with its time.
  std::unique_ptr<Progress> progress;
  int64_t first_step = -1;
  const TrainResult r = train_llama(t, data, valid, out, [&](const TrainProgress& p) {
    if (first_step < 0) {
      first_step = p.step;
      progress = std::make_unique<Progress>("train", static_cast<size_t>(std::max<int64_t>(1, p.total_steps - first_step)));
    }
    if (!p.log.empty()) {
      if (tty && p.step > first_step) fmt::print(stderr, "\r\033[K");
      fmt::print("{}\n", p.log);
      std::fflush(stdout);
    }
    if (p.step <= first_step) return;
    progress->update(static_cast<size_t>(p.step - first_step), fmt::format("loss {:.3f} lr {:.2e}", p.loss, p.lr));
  });
  if (progress) progress->finish();
  fmt::print("wrote {}: {} parameters, {} steps, {} tokens in {:.0f} s ({:.0f} tokens/s)\n", out, r.parameters, r.steps,
             r.tokens_seen, r.seconds, r.tokens_per_second);
  fmt::print("final loss: train {:.4f}, valid {:.4f} nats/token ({:.4f} bits/byte)\n", r.final_train_loss, r.final_valid_loss,
             r.final_valid_loss / std::log(2.0));
  if (!json_out.empty()) {
    nlohmann::json evals = nlohmann::json::array();
    for (const TrainEval& e : r.evals) evals.push_back({{"step", e.step}, {"train_loss", e.train_loss}, {"valid_loss", e.valid_loss}});
    const nlohmann::json j = {{"out", out}, {"rope_theta", t.rope_theta}, {"parameters", r.parameters}, {"steps", r.steps},
                              {"batch", t.batch_size}, {"context", t.context}, {"tokens_seen", r.tokens_seen},
                              {"seconds", r.seconds}, {"tokens_per_second", r.tokens_per_second},
                              {"final_train_loss", r.final_train_loss}, {"final_valid_loss", r.final_valid_loss},
                              {"device", runtime.device}, {"dtype", runtime.dtype}, {"threads", runtime.threads},
                              {"evals", evals}, {"command", t.command_line}};
    formats::write_file_atomically(json_out, j.dump(2) + "\n");
  }
  return 0;
}

}  // namespace longrope
