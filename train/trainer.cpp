// Training a byte-level LLaMA: data windows, the AdamW loop, resumable state and the model card.
// Shapes: B batch, T context, W = T + 1 bytes per window, V vocab.
#include "train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/types.h>  // before clip_grad.h, which uses torch::Tensor undeclared
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>

#include "models/checkpoint.h"
#include "formats/atomic_file.h"
#include "eval/content_digest.h"
#include "formats/input_file.h"
#include "formats/json_file.h"
#include "models/llama_model.h"
#include "util/errors.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr double kHeldOutFraction = 0.05;  // validation tail of the training bytes when no --valid
constexpr int kStateVersion = 1;           // train_state/state.json layout

// ---------------------------------------------------------------------------------------------
// Data: bytes of text files, and windows of W = T + 1 bytes (T inputs, T shifted targets).

struct ByteFile {
  std::string path;
  int64_t bytes = 0;
};

struct ByteCorpus {
  std::vector<uint8_t> bytes;
  std::vector<ByteFile> files;
};

std::vector<std::string> expand_paths(const std::string& path) {
  if (!fs::exists(path)) throw std::runtime_error(path + ": does not exist");
  if (!fs::is_directory(path)) return {path};
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(path))
    if (entry.is_regular_file() && entry.path().extension() == ".txt") out.push_back(entry.path().string());
  std::sort(out.begin(), out.end());
  if (out.empty()) throw std::runtime_error(path + ": no .txt files in this directory");
  return out;
}

ByteCorpus read_corpus(const std::vector<std::string>& paths) {
  ByteCorpus c;
  for (const std::string& p : paths) {
    for (const std::string& file : expand_paths(p)) {
      const std::string text = formats::read_regular_file(file, std::numeric_limits<size_t>::max());  // a FIFO is refused, not waited on
      if (const std::string why = formats::not_text_reason(text); !why.empty())
        throw std::runtime_error(fmt::format("{}: not a text file ({}): train reads text", file, why));
      c.files.push_back({file, static_cast<int64_t>(text.size())});
      c.bytes.insert(c.bytes.end(), text.begin(), text.end());
    }
  }
  return c;
}

void require_window(const std::vector<uint8_t>& bytes, int64_t window, const std::string& what) {
  if (bytes.empty()) throw std::runtime_error(what + ": no data (0 bytes)");
  if (static_cast<int64_t>(bytes.size()) < window)
    throw std::runtime_error(fmt::format("{}: {} bytes, fewer than one training window of {} (context + 1)", what,
                                         bytes.size(), window));
}

// Rows of `window` bytes starting at `offsets`: (B, W) int64 on the CPU.
at::Tensor gather_windows(const std::vector<uint8_t>& bytes, const std::vector<int64_t>& offsets, int64_t window) {
  at::Tensor t = at::empty({static_cast<int64_t>(offsets.size()), window}, at::kLong);
  int64_t* p = t.data_ptr<int64_t>();
  for (int64_t off : offsets)
    for (int64_t i = 0; i < window; ++i) *p++ = bytes[static_cast<size_t>(off + i)];
  return t;
}

// `count` windows spread evenly over the data, the same at every evaluation.
at::Tensor fixed_windows(const std::vector<uint8_t>& bytes, int64_t count, int64_t window) {
  const int64_t last = static_cast<int64_t>(bytes.size()) - window;
  std::vector<int64_t> offsets;
  for (int64_t i = 0; i < count; ++i) offsets.push_back(count > 1 ? i * last / (count - 1) : 0);
  return gather_windows(bytes, offsets, window);
}

at::Tensor random_windows(const std::vector<uint8_t>& bytes, int64_t count, int64_t window, std::mt19937_64& rng) {
  const uint64_t starts = bytes.size() - static_cast<size_t>(window) + 1;
  std::vector<int64_t> offsets;
  for (int64_t i = 0; i < count; ++i) offsets.push_back(static_cast<int64_t>(rng() % starts));
  return gather_windows(bytes, offsets, window);
}

// ---------------------------------------------------------------------------------------------
// Model: float32 master weights that require grad, and rounded copies for the compute dtype.

}  // namespace

LlamaConfig trained_model_config(const TrainConfig& settings) {
  LlamaConfig c;
  c.model_type = "llama";
  c.vocab_size = settings.vocab_size;
  c.hidden_size = settings.hidden_size;
  c.intermediate_size = settings.mlp_width();
  c.num_hidden_layers = settings.num_layers;
  c.num_attention_heads = settings.num_heads;
  c.num_key_value_heads = settings.num_kv_heads;
  c.head_dim = settings.head_dim();
  c.rms_norm_eps = 1e-5;
  c.rope_theta = settings.rope_theta;
  c.max_position_embeddings = settings.context;
  c.original_max_position_embeddings = settings.original_length > 0 ? settings.original_length : settings.context;
  c.tie_word_embeddings = true;
  c.torch_dtype = "float32";
  c.validate("train config");
  return c;
}

namespace {

// The distinct tensors of `w` in checkpoint order (a tied head is the embedding, listed once).
std::vector<at::Tensor> parameters_of(const LlamaConfig& config, LlamaWeights w) {
  std::vector<at::Tensor> out;
  for_each_weight(config, w, [&](const std::string& name, at::Tensor& slot, const std::vector<int64_t>&, bool) {
    if (slot.defined() && !(name == "lm_head.weight" && config.tie_word_embeddings)) out.push_back(slot);
  });
  return out;
}

// Differentiable casts of the master weights: gradients flow back into the float32 tensors.
LlamaWeights compute_weights(const LlamaConfig& config, const LlamaWeights& master, c10::ScalarType dtype) {
  if (dtype == at::kFloat) return master;
  LlamaWeights w = master;
  for_each_weight(config, w, [&](const std::string&, at::Tensor& slot, const std::vector<int64_t>&, bool) {
    if (slot.defined()) slot = slot.to(dtype);
  });
  if (config.tie_word_embeddings) w.lm_head = w.embed;
  return w;
}

// Mean next-byte NLL over all B·T positions of a (B, W) batch, in float32.
at::Tensor batch_loss(const LlamaModel& model, const RopeTable& rope, const at::Tensor& batch) {
  const int64_t t = batch.size(1) - 1;
  at::Tensor on_device = batch.to(model.device());
  at::Tensor logits = model.logits(model.hidden_states(on_device.slice(1, 0, t), rope));  // (B, T, V) f32
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), on_device.slice(1, 1, t + 1).reshape({-1}));
}

// ---------------------------------------------------------------------------------------------
// Optimizer: AdamW with weight decay on 2-D weights only.

std::unique_ptr<torch::optim::AdamW> make_optimizer(const TrainConfig& settings, const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> decay, no_decay;
  for (const at::Tensor& p : params) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto options = [&](double wd) {
    return torch::optim::AdamWOptions(settings.lr).betas(std::make_tuple(settings.beta1, settings.beta2)).eps(1e-8).weight_decay(wd);
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(options(settings.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(options(0.0)));
  return std::make_unique<torch::optim::AdamW>(std::move(groups), options(settings.weight_decay));
}

void set_learning_rate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

// ---------------------------------------------------------------------------------------------
// Resumable state: out_dir/train_state/{config.json, model.safetensors, optimizer.pt, state.json}.
// Written to train_state.tmp, then swapped in by renames; a crash mid-swap leaves train_state.old.

struct SessionState {
  int64_t step = 0;
  std::mt19937_64 rng;
  double seconds = 0;  // wall time of earlier sessions
  std::vector<float> loss_history;
  std::vector<TrainEval> evals;
  json rope = nullptr;  // rope_json of the run that wrote the checkpoint
  json settings = nullptr;  // training_settings of that run (null in checkpoints written before it)
};

// What a resumed run must share with the run it continues, keyed by the option that gives each: the
// bytes trained and validated on, and the optimisation. Another learning rate or batch mid-run would
// give a model that neither run describes. (--steps may grow: a longer run continues a shorter one.)
json training_settings(const TrainConfig& settings, const std::vector<uint8_t>& train_bytes, const std::vector<uint8_t>& valid_bytes) {
  const auto digest = [](const std::vector<uint8_t>& bytes) { return text_checksum(std::string(bytes.begin(), bytes.end())); };
  return {{"--data", digest(train_bytes)}, {"--valid", digest(valid_bytes)}, {"--batch", settings.batch_size},
          {"--lr", settings.lr},           {"--min-lr", settings.min_lr},      {"--warmup", settings.warmup_steps},
          {"--weight-decay", settings.weight_decay}, {"--grad-clip", settings.grad_clip}, {"--seed", settings.seed},
          {"--eval-batches", settings.eval_batches}, {"--dtype", dtype_name(settings.dtype)}};
}

// Refuses a resume whose settings differ from the checkpoint's, naming the option.
void check_same_settings(const SessionState& saved, const json& now, const TrainConfig& settings, const std::string& source) {
  if (settings.steps < saved.step)
    throw UsageError(fmt::format("--steps: {} is fewer than the {} steps {} already holds", settings.steps, saved.step, source));
  if (saved.settings.is_null()) return;  // a checkpoint from before settings were recorded
  for (const auto& [option, value] : now.items()) {
    const json was = saved.settings.value(option, json());
    if (was == value) continue;
    if (option == "--data" || option == "--valid")  // digests: their values would say nothing
      throw UsageError(fmt::format("{}: the checkpoint {} was trained on other documents: resume with the same {}", option, source, option));
    throw UsageError(fmt::format("{}: the checkpoint {} was trained with {}, this run asks for {}: resume with the same {}", option,
                                 source, was.dump(), value.dump(), option));
  }
}

std::string rng_to_string(const std::mt19937_64& rng) {
  std::ostringstream s;
  s << rng;
  return s.str();
}

// The RoPE the windows were trained under: a resume must keep it.
json rope_json(const TrainConfig& settings) {
  if (!settings.rope) return nullptr;
  return {{"lambda", settings.rope->lambda}, {"start_tokens", settings.rope->start_tokens},
          {"attention_factor", settings.rope->attention_factor}, {"init_model", settings.init_model}};
}

json state_json(const TrainConfig& settings, const SessionState& session, double seconds) {
  json evals = json::array();
  for (const TrainEval& e : session.evals) evals.push_back({{"step", e.step}, {"train_loss", e.train_loss}, {"valid_loss", e.valid_loss}});
  return {{"version", kStateVersion}, {"step", session.step}, {"steps", settings.steps}, {"seed", settings.seed},
          {"batch_size", settings.batch_size}, {"context", settings.context}, {"rng_state", rng_to_string(session.rng)},
          {"seconds", seconds}, {"loss_history", session.loss_history}, {"evals", evals}, {"rope", rope_json(settings)},
          {"settings", session.settings}};
}

// The optimizer's state as torch serializes it, in memory. torch::save to a file writes its archive's
// end from a destructor: a write that fails there (a file-size limit, a full disk) ends the process
// with std::terminate. Written by formats' writer instead, a failure is one line naming the file.
std::string optimizer_bytes(torch::optim::AdamW& optimizer) {
  std::ostringstream bytes;
  torch::save(optimizer, bytes);
  return bytes.str();
}

// The optimizer state of a checkpoint; a damaged file is named, not told in torch's words.
void load_optimizer_state(torch::optim::AdamW& optimizer, const fs::path& path, const at::Device& device) {
  std::istringstream bytes(formats::read_regular_file(path.string(), std::numeric_limits<size_t>::max()));
  try {
    torch::load(optimizer, bytes, device);
  } catch (const std::exception&) {
    throw std::runtime_error(path.string() + ": cannot read the optimizer state (truncated or not a torch archive)");
  }
}

void write_train_state(const fs::path& out_dir, const TrainConfig& settings, const LlamaConfig& config, const LlamaWeights& master,
                       torch::optim::AdamW& optimizer, const SessionState& session, double seconds) {
  const fs::path final_dir = out_dir / "train_state", tmp = out_dir / "train_state.tmp", old = out_dir / "train_state.old";
  fs::remove_all(tmp);
  try {
    save_llama_checkpoint(tmp.string(), config, master);
    formats::write_file_atomically((tmp / "optimizer.pt").string(), optimizer_bytes(optimizer));
    formats::write_file_atomically((tmp / "state.json").string(), state_json(settings, session, seconds).dump(1) + "\n");
  } catch (...) {  // a full disk or a file-size limit: the one line names the file; no half checkpoint is left
    std::error_code error;
    fs::remove_all(tmp, error);
    throw;
  }
  fs::remove_all(old);
  if (fs::exists(final_dir)) fs::rename(final_dir, old);
  fs::rename(tmp, final_dir);
  fs::remove_all(old);
}

fs::path find_train_state(const fs::path& out_dir) {
  if (fs::exists(out_dir / "train_state" / "state.json")) return out_dir / "train_state";
  if (fs::exists(out_dir / "train_state.old" / "state.json")) return out_dir / "train_state.old";
  throw std::runtime_error((out_dir / "train_state").string() + ": no checkpoint to resume from");
}

// `with_context`: a resume must also keep the context; a model continued from (--init) may change it.
void check_same_shape(const LlamaConfig& saved, const LlamaConfig& wanted, const std::string& source, bool with_context = true) {
  auto same = [&](const char* field, double a, double b) {
    if (a != b) throw std::runtime_error(fmt::format("{}: field '{}': the checkpoint has {}, this run asks for {}", source, field, a, b));
  };
  same("vocab_size", saved.vocab_size, wanted.vocab_size);
  same("hidden_size", saved.hidden_size, wanted.hidden_size);
  same("intermediate_size", saved.intermediate_size, wanted.intermediate_size);
  same("num_hidden_layers", saved.num_hidden_layers, wanted.num_hidden_layers);
  same("num_attention_heads", saved.num_attention_heads, wanted.num_attention_heads);
  same("num_key_value_heads", saved.num_key_value_heads, wanted.num_key_value_heads);
  if (with_context) same("max_position_embeddings", saved.max_position_embeddings, wanted.max_position_embeddings);
  same("rope_theta", saved.rope_theta, wanted.rope_theta);
}

SessionState read_session_state(const fs::path& dir) {
  const std::string path = (dir / "state.json").string();
  const json j = formats::read_json_file(path);
  SessionState session;
  try {
    if (j.at("version").get<int>() != kStateVersion)
      throw std::runtime_error(fmt::format("version {}, expected {}", j.at("version").get<int>(), kStateVersion));
    session.step = j.at("step").get<int64_t>();
    std::istringstream rng(j.at("rng_state").get<std::string>());
    rng >> session.rng;
    if (!rng) throw std::runtime_error("unreadable rng_state");
    session.seconds = j.at("seconds").get<double>();
    session.loss_history = j.at("loss_history").get<std::vector<float>>();
    for (const json& e : j.at("evals")) session.evals.push_back({e.at("step"), e.at("train_loss"), e.at("valid_loss")});
    session.rope = j.value("rope", json(nullptr));
    session.settings = j.value("settings", json(nullptr));
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  return session;
}

// ---------------------------------------------------------------------------------------------
// The model card.

std::string data_table(const ByteCorpus& c) {
  std::string s = "| file | bytes |\n|---|---:|\n";
  int64_t total = 0;
  for (const ByteFile& f : c.files) {
    s += fmt::format("| {} | {} |\n", f.path, f.bytes);
    total += f.bytes;
  }
  return s + fmt::format("| **total** ({} file{}) | {} |\n", c.files.size(), c.files.size() == 1 ? "" : "s", total);
}

std::string model_card(const TrainConfig& settings, const LlamaConfig& c, const TrainResult& r, const ByteCorpus& train,
                       const ByteCorpus* valid) {
  const double ln2 = std::log(2.0);
  std::string s = "# Byte-level LLaMA trained with `longrope train`\n\n";
  s += "A LLaMA-architecture decoder (RMSNorm, grouped-query attention, SwiGLU MLP, RoPE) trained from scratch on raw "
       "bytes: token id = byte value, no tokenizer, no BOS/EOS token. Input and output embeddings are tied.\n\n";
  s += "## Architecture\n\n| | |\n|---|---|\n";
  s += fmt::format("| parameters | {} |\n", r.parameters);
  s += fmt::format("| vocabulary | {}{} |\n", c.vocab_size, c.vocab_size > 256 ? " (bytes 0–255; higher ids unused)" : " (bytes)");
  s += fmt::format("| hidden size | {} |\n| layers | {} |\n", c.hidden_size, c.num_hidden_layers);
  s += fmt::format("| attention heads | {} query, {} key/value, head dim {} |\n", c.num_attention_heads,
                   c.num_key_value_heads, c.head_dim);
  s += fmt::format("| MLP width | {} (SwiGLU) |\n", c.intermediate_size);
  s += fmt::format("| context | {} tokens (RoPE θ = {}) |\n\n", c.max_position_embeddings, c.rope_theta);
  s += "## Training\n\n";
  if (!settings.command_line.empty()) s += "```\n" + settings.command_line + "\n```\n\n";
  if (!settings.init_model.empty())
    s += fmt::format("- continued from the weights of `{}`{}; pre-training length L = {}\n", settings.init_model,
                     settings.rope ? fmt::format(" with a LongRoPE table applied at every window (n̂ = {}, attention factor {:.4f}, "
                                                 "λ from {:.3f} to {:.3f})", settings.rope->start_tokens, settings.rope->attention_factor,
                                                 settings.rope->lambda.front(), settings.rope->lambda.back())
                                   : "",
                     c.original_max_position_embeddings);
  s += fmt::format("- steps: {} × batch {} × context {} = {} tokens seen\n", r.steps, settings.batch_size, settings.context, r.tokens_seen);
  s += fmt::format("- AdamW (β = {}, {}; weight decay {} on 2-D weights), learning rate {} with {} warm-up steps, cosine "
                   "decay to {}, gradient norm clipped at {}\n",
                   settings.beta1, settings.beta2, settings.weight_decay, settings.lr, settings.warmup_steps, settings.min_lr, settings.grad_clip);
  s += fmt::format("- device {}, compute dtype {}, float32 master weights, seed {}\n", settings.device.str(), dtype_name(settings.dtype), settings.seed);
  s += fmt::format("- wall time {:.0f} s; {:.0f} tokens/s in the training steps of the last session\n\n", r.seconds,
                   r.tokens_per_second);
  s += "## Data\n\nTraining files (concatenated; windows sampled uniformly at random):\n\n" + data_table(train) + "\n";
  if (valid) {
    s += "Validation files:\n\n" + data_table(*valid) + "\n";
  } else {
    s += fmt::format("Validation: the last {:.0f}% of the training bytes, held out from training.\n\n", 100 * kHeldOutFraction);
  }
  s += "## Results\n\n";
  s += fmt::format("Mean next-byte loss on {} fixed windows of {} bytes per split, after step {}.\n\n",
                   settings.eval_batches * settings.batch_size, settings.context + 1, r.steps);
  s += "| split | nats/token | bits/byte |\n|---|---:|---:|\n";
  s += fmt::format("| train | {:.4f} | {:.4f} |\n", r.final_train_loss, r.final_train_loss / ln2);
  s += fmt::format("| validation | {:.4f} | {:.4f} |\n\n", r.final_valid_loss, r.final_valid_loss / ln2);
  s += "## Use\n\n```python\nimport torch, transformers\n"
       "m = transformers.AutoModelForCausalLM.from_pretrained(DIR)\n"
       "ids = torch.tensor([list(\"Once upon a time\".encode())])\n"
       "out = m.generate(ids, max_new_tokens=100, do_sample=True)\n"
       "print(bytes(out[0].tolist()).decode(errors=\"replace\"))\n```\n";
  return s;
}

// Byte models have no BOS/EOS. An absent key would make transformers' LlamaConfig default to ids 1
// and 2 (control bytes here); an explicit null keeps them unset there too.
void mark_no_special_tokens(const std::string& config_path) {
  std::ifstream in(config_path);
  json j = json::parse(in);
  j["bos_token_id"] = nullptr;
  j["eos_token_id"] = nullptr;
  formats::write_file_atomically(config_path, j.dump(2) + "\n");
}

}  // namespace

// ---------------------------------------------------------------------------------------------

int64_t TrainConfig::mlp_width() const {
  if (intermediate_size > 0) return intermediate_size;
  const int64_t raw = (8 * hidden_size + 2) / 3;
  return (raw + 63) / 64 * 64;
}

void TrainConfig::validate() const {
  auto positive = [](const char* setting, double v) {
    if (!(v > 0)) throw InvalidSetting(setting, fmt::format("must be positive, got {}", v));
  };
  auto non_negative = [](const char* setting, double v) {
    if (!(v >= 0)) throw InvalidSetting(setting, fmt::format("must be >= 0, got {}", v));
  };
  // The optimizer takes its settings as floats: one beyond float's range overflows inside LibTorch, and
  // an infinite one turns the loss to NaN, which would then be blamed on the learning rate.
  auto in_float_range = [](const char* setting, double v) {
    if (!std::isfinite(v) || std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max()))
      throw InvalidSetting(setting, fmt::format("{} is not a finite number within float's range", v));
  };
  for (const auto& [setting, v] : {std::pair{"lr", lr}, {"min_lr", min_lr}, {"weight_decay", weight_decay}, {"grad_clip", grad_clip},
                                   {"rope_theta", rope_theta}, {"beta1", beta1}, {"beta2", beta2}})
    in_float_range(setting, v);
  if (vocab_size < 256) throw InvalidSetting("vocab_size", fmt::format("must be at least 256 (one id per byte), got {}", vocab_size));
  positive("hidden_size", hidden_size);
  positive("num_layers", num_layers);
  positive("num_heads", num_heads);
  positive("num_kv_heads", num_kv_heads);
  if (hidden_size % num_heads != 0)
    throw InvalidSetting("num_heads", fmt::format("{} does not divide the hidden size {}", num_heads, hidden_size));
  if (num_heads % num_kv_heads != 0)
    throw InvalidSetting("num_kv_heads", fmt::format("{} does not divide the {} query heads", num_kv_heads, num_heads));
  if (head_dim() % 2 != 0)
    throw InvalidSetting("num_heads", fmt::format("head dim = hidden / heads = {} must be even for RoPE", head_dim()));
  non_negative("intermediate_size", intermediate_size);
  // The model config's own bounds (models/llama_config.cpp), told here by the option, not by the field
  // of a config the user never wrote.
  const auto at_most = [](const char* setting, int64_t v, int64_t limit) {
    if (v > limit) throw InvalidSetting(setting, fmt::format("{} is beyond any model this tool runs (at most {})", v, limit));
  };
  at_most("vocab_size", vocab_size, int64_t{1} << 24);
  at_most("hidden_size", hidden_size, int64_t{1} << 17);
  at_most("intermediate_size", intermediate_size, int64_t{1} << 20);
  at_most("num_layers", num_layers, 4096);
  at_most("num_heads", num_heads, 4096);
  at_most("context", context, int64_t{1} << 32);  // the trained model's max_position_embeddings
  if (context < 2) throw InvalidSetting("context", fmt::format("must be at least 2, got {}", context));
  if (!(rope_theta > 1)) throw InvalidSetting("rope_theta", fmt::format("must be > 1, got {}", rope_theta));
  if (original_length < 0) throw InvalidSetting("original_length", fmt::format("must be >= 0, got {}", original_length));
  if (rope && static_cast<int64_t>(rope->lambda.size()) != head_dim() / 2)
    throw InvalidSetting("table", fmt::format("has {} factors; this model's head dim {} needs {}", rope->lambda.size(), head_dim(),
                                              head_dim() / 2));
  positive("batch_size", batch_size);
  positive("steps", steps);
  positive("lr", lr);
  non_negative("min_lr", min_lr);
  if (min_lr > lr) throw InvalidSetting("min_lr", fmt::format("{} is above the peak learning rate {}", min_lr, lr));
  non_negative("warmup_steps", warmup_steps);
  if (warmup_steps >= steps) throw InvalidSetting("warmup_steps", fmt::format("{} must be less than the {} steps", warmup_steps, steps));
  non_negative("weight_decay", weight_decay);
  // AdamW multiplies every decayed weight by 1 − lr·wd each step: at 1 or more it zeroes or flips them.
  if (lr * weight_decay >= 1)
    throw InvalidSetting("weight_decay", fmt::format("{} × the learning rate {} is {:g}, at least 1: every step would zero or flip the "
                                                     "weights", weight_decay, lr, lr * weight_decay));
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1))
    throw InvalidSetting("betas", fmt::format("must lie in [0, 1), got {}, {}", beta1, beta2));
  non_negative("grad_clip", grad_clip);
  non_negative("eval_every", eval_every);
  positive("eval_batches", eval_batches);
  non_negative("checkpoint_every", checkpoint_every);
  if (dtype != c10::kFloat && dtype != c10::kBFloat16)
    throw InvalidSetting("dtype", fmt::format("{} is not supported for training (f32 or bf16)", dtype_name(dtype)));
  non_negative("threads", threads);
}

double learning_rate_at(const TrainConfig& settings, int64_t step) {
  if (step < settings.warmup_steps) return settings.lr * static_cast<double>(step + 1) / static_cast<double>(settings.warmup_steps);
  const int64_t decay_steps = std::max<int64_t>(1, settings.steps - settings.warmup_steps);
  const double progress = std::min(1.0, static_cast<double>(step - settings.warmup_steps) / static_cast<double>(decay_steps));
  return settings.min_lr + 0.5 * (settings.lr - settings.min_lr) * (1.0 + std::cos(M_PI * progress));
}

TrainResult train_llama(const TrainConfig& settings, const std::vector<std::string>& train_files,
                        const std::vector<std::string>& valid_files, const std::string& out_dir_name,
                        const TrainCallback& callback) {
  settings.validate();
  if (settings.threads > 0) at::set_num_threads(settings.threads);
  const auto session_start = Clock::now();
  const fs::path out_dir(out_dir_name);
  const int64_t window = settings.context + 1;
  auto report = [&](const TrainProgress& p) {
    if (callback) callback(p);
  };

  // Data.
  if (train_files.empty()) throw InvalidSetting("data", "no training data given");
  ByteCorpus train = read_corpus(train_files);
  require_window(train.bytes, window, fmt::format("{}", fmt::join(train_files, ", ")));
  ByteCorpus valid;
  std::vector<uint8_t> valid_bytes;
  if (!valid_files.empty()) {
    valid = read_corpus(valid_files);
    valid_bytes = std::move(valid.bytes);  // the model card needs only valid.files
    require_window(valid_bytes, window, fmt::format("{}", fmt::join(valid_files, ", ")));
  } else {
    const size_t keep = train.bytes.size() - static_cast<size_t>(kHeldOutFraction * static_cast<double>(train.bytes.size()));
    valid_bytes.assign(train.bytes.begin() + static_cast<std::ptrdiff_t>(keep), train.bytes.end());
    train.bytes.resize(keep);
    require_window(valid_bytes, window, "the held-out 5% tail of the training data (name validation files)");
    require_window(train.bytes, window, "the training data without its held-out 5% tail");
  }
  const int64_t eval_rows = settings.eval_batches * settings.batch_size;
  const at::Tensor train_eval_windows = fixed_windows(train.bytes, eval_rows, window);
  const at::Tensor valid_eval_windows = fixed_windows(valid_bytes, eval_rows, window);

  const json run_settings = training_settings(settings, train.bytes, valid_bytes);

  // Model and optimizer, fresh, from --init's weights, or from out_dir/train_state.
  const LlamaConfig config = trained_model_config(settings);
  if (!settings.init_model.empty() && !settings.resume)  // before anything is written
    check_same_shape(load_llama_config((fs::path(settings.init_model) / "config.json").string()), config, settings.init_model,
                     /*with_context=*/false);
  const fs::path state_dir = out_dir / "train_state";
  if (!settings.resume && (fs::exists(state_dir) || fs::exists(out_dir / "train_state.old")))
    throw std::runtime_error(state_dir.string() + ": a training checkpoint exists; resume it, or remove it");
  // One writer per output directory; a fresh run never replaces a model already there. A directory
  // this run creates and leaves empty (it failed before its first checkpoint) is removed again.
  struct RemoveIfLeftEmpty {
    fs::path dir;
    bool created;
    ~RemoveIfLeftEmpty() {
      std::error_code error;
      if (created && fs::is_empty(dir, error) && !error) fs::remove(dir, error);
    }
  } cleanup{out_dir, !fs::exists(out_dir)};
  const formats::DirectoryLock lock = claim_model_directory(out_dir.string(), /*may_hold_model=*/settings.resume);
  LoadOptions master_options{settings.device, at::kFloat};
  SessionState session;
  LlamaWeights master;
  fs::path resume_dir;
  if (settings.resume) {
    resume_dir = find_train_state(out_dir);
    check_same_shape(load_llama_config((resume_dir / "config.json").string()), config, resume_dir.string());
    session = read_session_state(resume_dir);
    check_same_settings(session, run_settings, settings, resume_dir.string());
    if (session.rope != rope_json(settings))
      throw std::runtime_error(fmt::format("{}: field 'rope': the checkpoint was trained under {}, this run asks for {} (resume with "
                                           "the same --init and --table)", (resume_dir / "state.json").string(), session.rope.dump(),
                                           rope_json(settings).dump()));
    master = load_llama_weights(config, resume_dir.string(), master_options);
  } else if (!settings.init_model.empty()) {
    session.rng.seed(settings.seed);
    master = load_llama_weights(config, settings.init_model, master_options);
    report({0, settings.steps, 0.0, 0.0, fmt::format("continuing from the weights of {}", settings.init_model)});
  } else {
    session.rng.seed(settings.seed);
    master = random_llama_weights(config, settings.seed, master_options);
  }
  session.settings = run_settings;  // the checkpoints this run writes record them
  const std::vector<at::Tensor> params = parameters_of(config, master);
  for (const at::Tensor& p : params) p.requires_grad_(true);  // in place: a tied lm_head stays the embedding
  std::unique_ptr<torch::optim::AdamW> optimizer = make_optimizer(settings, params);
  if (settings.resume) {
    load_optimizer_state(*optimizer, resume_dir / "optimizer.pt", settings.device);
    report({session.step, settings.steps, session.loss_history.empty() ? 0.0 : session.loss_history.back(), 0.0,
            fmt::format("resumed from {} at step {}", resume_dir.string(), session.step)});
  }

  ModelOptions model_options;
  model_options.load = LoadOptions{settings.device, settings.dtype};
  model_options.attention.backend = settings.attention;
  const LlamaModel master_model(config, master, model_options);
  const RopeScaling scaling = settings.rope ? *settings.rope : rope_none(master_model.rope_geometry());
  const RopeTable rope = build_rope_table(master_model.rope_geometry(), scaling, settings.context, settings.device, settings.dtype);
  const int64_t parameters = master_model.parameter_count();

  // Mean loss over fixed windows, `batch_size` rows per forward, without gradients.
  auto evaluate = [&](int64_t step) {
    at::NoGradGuard no_grad;
    const LlamaModel model(config, compute_weights(config, master, settings.dtype), model_options);
    auto mean_loss = [&](const at::Tensor& windows) {
      double sum = 0;
      for (int64_t b = 0; b < settings.eval_batches; ++b)
        sum += batch_loss(model, rope, windows.slice(0, b * settings.batch_size, (b + 1) * settings.batch_size)).item<double>();
      return sum / static_cast<double>(settings.eval_batches);
    };
    TrainEval e{step, mean_loss(train_eval_windows), mean_loss(valid_eval_windows)};
    session.evals.push_back(e);
    return e;
  };
  auto eval_line = [&](const TrainEval& e, double lr) {
    return fmt::format("step {:>6}  train {:.4f}  valid {:.4f} nats/token ({:.3f} bits/byte)  lr {:.3g}", e.step, e.train_loss,
                       e.valid_loss, e.valid_loss / std::log(2.0), lr);
  };
  auto elapsed = [&] { return session.seconds + std::chrono::duration<double>(Clock::now() - session_start).count(); };

  if (session.step == 0 && session.evals.empty()) report({0, settings.steps, 0.0, 0.0, eval_line(evaluate(0), 0.0)});

  double step_seconds = 0;
  int64_t session_steps = 0;
  for (int64_t step = session.step; step < settings.steps; ++step) {
    const auto step_start = Clock::now();
    const double lr = learning_rate_at(settings, step);
    set_learning_rate(*optimizer, lr);
    const at::Tensor batch = random_windows(train.bytes, settings.batch_size, window, session.rng);  // (B, W)
    optimizer->zero_grad();
    const LlamaModel model(config, compute_weights(config, master, settings.dtype), model_options);
    at::Tensor loss = batch_loss(model, rope, batch);
    loss.backward();
    if (settings.grad_clip > 0) torch::nn::utils::clip_grad_norm_(params, settings.grad_clip);
    optimizer->step();
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value))
      throw std::runtime_error(fmt::format("the loss became {} at step {} (lr {:.3g}); try a lower learning rate", loss_value, step + 1, lr));
    step_seconds += std::chrono::duration<double>(Clock::now() - step_start).count();
    ++session_steps;
    session.loss_history.push_back(static_cast<float>(loss_value));
    session.step = step + 1;

    std::string log;
    if ((settings.eval_every > 0 && session.step % settings.eval_every == 0) || session.step == settings.steps) log = eval_line(evaluate(session.step), lr);
    if (settings.checkpoint_every > 0 && session.step % settings.checkpoint_every == 0) {
      write_train_state(out_dir, settings, config, master, *optimizer, session, elapsed());
      log += fmt::format("{}checkpoint {} (step {})", log.empty() ? "" : "\n", state_dir.string(), session.step);
    }
    report({session.step, settings.steps, loss_value, lr, log});
  }
  if (session.evals.empty() || session.evals.back().step != session.step) report({session.step, settings.steps, 0.0, 0.0, eval_line(evaluate(session.step), 0.0)});

  TrainResult r;
  r.final_train_loss = session.evals.back().train_loss;
  r.final_valid_loss = session.evals.back().valid_loss;
  r.steps = session.step;
  r.tokens_seen = session.step * settings.batch_size * settings.context;
  r.seconds = elapsed();
  r.tokens_per_second = step_seconds > 0 ? static_cast<double>(session_steps * settings.batch_size * settings.context) / step_seconds : 0;
  r.parameters = parameters;
  r.loss_history = session.loss_history;
  r.evals = session.evals;

  save_llama_checkpoint(out_dir.string(), config, master);  // float32, tied head
  mark_no_special_tokens((out_dir / "config.json").string());
  formats::write_file_atomically((out_dir / "README.md").string(),
                                 model_card(settings, config, r, train, valid_files.empty() ? nullptr : &valid));
  return r;
}

}  // namespace longrope
