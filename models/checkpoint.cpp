// Hugging Face checkpoint I/O on top of the safetensors reader/writer.
#include "models/checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include "formats/atomic_file.h"
#include "formats/safetensors.h"
#include "util/errors.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using formats::DType;

c10::ScalarType scalar_type_of(DType d, const std::string& context) {
  switch (d) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::F64: return at::kDouble;
    default: throw std::runtime_error(context + ": unsupported dtype " + formats::safetensors_name(d) + " (F32, F16, BF16, F64)");
  }
}

DType dtype_of(c10::ScalarType t) {
  switch (t) {
    case at::kFloat: return DType::F32;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    case at::kDouble: return DType::F64;
    default: throw std::runtime_error("cannot save tensors of dtype " + dtype_name(t));
  }
}

// One copy from the mapped file into a tensor of the target dtype and device.
at::Tensor tensor_from_view(const formats::TensorView& view, const std::string& context, const LoadOptions& o) {
  const c10::ScalarType src = scalar_type_of(view.dtype, context);
  at::Tensor staged = at::empty(view.shape, at::TensorOptions().dtype(src));
  std::memcpy(staged.data_ptr(), view.data, view.nbytes);  // memcpy: the mapping may be unaligned
  require_finite(staged, context);
  at::Tensor converted = staged.to(o.device, o.dtype);
  if (!at::isfinite(converted).all().item<bool>())
    throw std::runtime_error(fmt::format("{}: values up to {:g} overflow {}", context, staged.abs().max().item<double>(), dtype_name(o.dtype)));
  return converted;
}

// Rows [first, first + rows) of a 2-D tensor in the file: a view of their bytes (row-major).
formats::TensorView row_block(const formats::TensorView& view, int64_t first, int64_t rows) {
  const size_t row_bytes = view.nbytes / static_cast<size_t>(view.shape.at(0));
  formats::TensorView block = view;
  block.shape[0] = rows;
  block.data = view.data + static_cast<size_t>(first) * row_bytes;
  block.nbytes = static_cast<size_t>(rows) * row_bytes;
  return block;
}

// "q_proj 64, k_proj 32, v_proj 32": what the rows of a fused tensor hold, for shape errors.
std::string describe_rows(const FusedWeight& f) {
  std::vector<std::string> parts;
  for (const FusedWeight::Part& p : f.parts) {
    const std::string slot = p.name.substr(0, p.name.rfind('.'));  // drop ".weight"
    parts.push_back(fmt::format("{} {}", slot.substr(slot.rfind('.') + 1), p.rows));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

c10::ScalarType parse_dtype(const std::string& name) {
  if (name == "f32" || name == "float32" || name == "fp32") return at::kFloat;
  if (name == "bf16" || name == "bfloat16") return at::kBFloat16;
  if (name == "f16" || name == "float16" || name == "fp16") return at::kHalf;
  throw InvalidSetting("dtype", "unknown dtype '" + name + "' (f32, bf16, f16)");
}

std::string dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    case at::kDouble: return "float64";
    default: return c10::toString(dtype);
  }
}

void require_finite(const at::Tensor& t, const std::string& context) {
  if (!at::isfinite(t).all().item<bool>())
    throw std::runtime_error(fmt::format("{}: holds non-finite values (NaN or infinity)", context));
}

LlamaWeights load_llama_weights(const LlamaConfig& config, const std::string& dir, const LoadOptions& options) {
  const formats::SafetensorsCheckpoint ckpt = formats::SafetensorsCheckpoint::open(dir);
  LlamaWeights w;
  std::set<std::string> used;
  // Slots the file keeps as rows of a fused tensor (Phi-3), by slot name.
  const std::vector<FusedWeight> fused = fused_weights(config);
  std::map<std::string, std::pair<const FusedWeight*, const FusedWeight::Part*>> stored_in;
  for (const FusedWeight& f : fused)
    for (const FusedWeight::Part& part : f.parts) stored_in[part.name] = {&f, &part};
  for_each_weight(config, w, [&](const std::string& name, at::Tensor& slot, const std::vector<int64_t>& shape, bool required) {
    const auto in = stored_in.find(name);
    const FusedWeight* f = in == stored_in.end() ? nullptr : in->second.first;
    const std::string& stored = f ? f->name : name;
    if (!ckpt.contains(stored)) {
      if (required) throw std::runtime_error(fmt::format("{}: missing tensor '{}'", dir, stored));
      return;
    }
    used.insert(stored);
    const formats::TensorView& view = ckpt.get(stored);
    const std::string context = fmt::format("{}: tensor '{}'", dir, stored);
    if (view.shape != (f ? f->shape : shape))
      throw std::runtime_error(fmt::format("{}: shape [{}] does not match the config, expected [{}]{}", context,
                                           fmt::join(view.shape, ", "), fmt::join(f ? f->shape : shape, ", "),
                                           f ? " (rows: " + describe_rows(*f) + ")" : ""));
    slot = tensor_from_view(f ? row_block(view, in->second.second->first_row, in->second.second->rows) : view, context, options);
  });
  // A tensor the config does not account for means the config describes another model (fewer layers,
  // say), which would run without it. Old checkpoints keep RoPE's inverse frequencies: derived, unused.
  for (const std::string& name : ckpt.names()) {
    const bool derived = ends_with(name, ".rotary_emb.inv_freq");
    if (!used.count(name) && !derived)
      throw std::runtime_error(fmt::format("{}: tensor '{}' is not part of the model config.json describes ({} layers{})", dir, name,
                                           config.num_hidden_layers, config.tie_word_embeddings ? ", tied embeddings" : ""));
  }
  if (!w.lm_head.defined()) w.lm_head = w.embed;  // tied embeddings
  return w;
}

formats::DirectoryLock claim_model_directory(const std::string& dir, bool may_hold_model) {
  if (fs::exists(dir) && !fs::is_directory(dir)) throw std::runtime_error(dir + ": exists and is not a directory");
  fs::create_directories(dir);
  formats::DirectoryLock lock = formats::DirectoryLock::acquire(dir);
  if (!may_hold_model) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name == "config.json" || entry.path().extension() == ".safetensors" || name == "model.safetensors.index.json")
        throw std::runtime_error(fmt::format("{}: already holds a model ({}); remove it, or choose another directory", dir, name));
    }
  }
  return lock;
}

void save_llama_checkpoint(const std::string& dir, const LlamaConfig& config, const LlamaWeights& weights,
                           size_t max_shard_bytes) {
  fs::create_directories(dir);
  LlamaWeights w = weights;
  std::vector<at::Tensor> keep;  // contiguous CPU copies must outlive the writer call
  std::vector<formats::TensorToWrite> out;
  const auto add = [&](const std::string& name, const at::Tensor& t, const std::vector<int64_t>& shape) {
    at::Tensor cpu = t.detach().to(at::kCPU).contiguous();
    keep.push_back(cpu);
    out.push_back({name, dtype_of(cpu.scalar_type()), shape, cpu.data_ptr(), cpu.nbytes()});
  };
  // The layout the model was read in: a fused tensor (Phi-3) is written where its first slot would be.
  std::map<std::string, at::Tensor> slots;
  for_each_weight(config, w, [&](const std::string& name, at::Tensor& slot, const std::vector<int64_t>&, bool) { slots[name] = slot; });
  const std::vector<FusedWeight> fused = fused_weights(config);
  std::map<std::string, const FusedWeight*> fused_at;  // by the name of every slot it stacks
  for (const FusedWeight& f : fused)
    for (const FusedWeight::Part& part : f.parts) fused_at[part.name] = &f;
  for_each_weight(config, w, [&](const std::string& name, at::Tensor& slot, const std::vector<int64_t>& shape, bool required) {
    if (!slot.defined() || (!required && name == "lm_head.weight")) return;
    TORCH_CHECK(slot.sizes().vec() == shape, "tensor ", name, " has shape ", slot.sizes(), ", expected ", shape);
    const auto in = fused_at.find(name);
    if (in == fused_at.end()) return add(name, slot, shape);
    const FusedWeight& f = *in->second;
    if (f.parts.front().name != name) return;  // written with the first
    std::vector<at::Tensor> rows;
    for (const FusedWeight::Part& part : f.parts) rows.push_back(slots.at(part.name).detach().to(at::kCPU));
    const at::Tensor stacked = at::cat(rows, 0);
    TORCH_CHECK(stacked.sizes().vec() == f.shape, "tensor ", f.name, " has shape ", stacked.sizes(), ", expected ", f.shape);
    add(f.name, stacked, f.shape);
  });
  LlamaConfig saved = config;
  saved.torch_dtype = dtype_name(weights.embed.scalar_type());
  if (max_shard_bytes > 0) {
    formats::write_sharded_safetensors(dir, out, max_shard_bytes);
  } else {
    formats::write_safetensors((fs::path(dir) / "model.safetensors").string(), out, {{"format", "pt"}});
  }
  formats::write_file_atomically((fs::path(dir) / "config.json").string(), llama_config_to_json(saved));
}

LlamaWeights random_llama_weights(const LlamaConfig& config, uint64_t seed, const LoadOptions& options) {
  // On the CPU, a generator of our own (the same checkpoint for a seed, whatever else drew numbers);
  // on a GPU, the device's own generator, so that a 7B-shaped model is made there in seconds.
  at::Generator gen = at::detail::createCPUGenerator(seed);
  if (!options.device.is_cpu()) {
    gen = at::globalContext().defaultGenerator(options.device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  const at::TensorOptions made_on = at::TensorOptions().dtype(at::kFloat).device(options.device);
  LlamaWeights w;
  for_each_weight(config, w, [&](const std::string& name, at::Tensor& slot, const std::vector<int64_t>& shape, bool required) {
    if (!required) return;  // a tied lm_head, or a bias the config does not declare
    at::Tensor t = name.find("norm") != std::string::npos ? at::ones(shape, made_on) : at::normal(0.0, 0.02, shape, gen, made_on);
    slot = t.to(options.device, options.dtype);
  });
  if (!w.lm_head.defined()) w.lm_head = w.embed;
  return w;
}

}  // namespace longrope
