// RuntimeArgs → ModelOptions, with one-line errors for devices this machine lacks.
#include "models/model_runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/version.h>

#include <algorithm>
#include <thread>

#include "util/errors.h"

namespace longrope {

c10::Device parse_device(const std::string& name) {
  std::optional<c10::Device> device;
  try {
    device = c10::Device(name);
  } catch (const std::exception&) {  // c10's message is a page of dispatcher text
    throw InvalidSetting("device", fmt::format("'{}' is not a device (cpu, cuda or cuda:N)", name));
  }
  if (device->is_cuda()) {
    if (!at::hasCUDA()) throw InvalidSetting("device", fmt::format("{}: this build or machine has no CUDA", name));
    const int64_t count = at::getNumGPUs();
    if (device->has_index() && device->index() >= count)
      throw InvalidSetting("device", fmt::format("{}: this machine has {} CUDA device{}", name, count, count == 1 ? "" : "s"));
  } else if (!device->is_cpu()) {
    throw InvalidSetting("device", fmt::format("'{}' is not supported (cpu, cuda or cuda:N)", name));
  }
  return *device;
}

int cuda_device_count() { return at::hasCUDA() ? static_cast<int>(at::getNumGPUs()) : 0; }

std::string device_for_local_rank(const std::string& device, int local_rank) {
  if (device != "cuda" || !at::hasCUDA() || at::getNumGPUs() < 1) return device;
  return fmt::format("cuda:{}", local_rank % static_cast<int>(at::getNumGPUs()));
}

namespace {

int checked_threads(const RuntimeArgs& a) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (a.threads < 0) throw InvalidSetting("threads", fmt::format("must be >= 0, got {}", a.threads));
  if (a.threads > 4 * cores)  // thousands of threads on a few cores only thrash
    throw InvalidSetting("threads", fmt::format("{} is more than 4 per core (this machine has {})", a.threads, cores));
  return a.threads > 0 ? a.threads : cores;
}

}  // namespace

void set_cpu_threads(const RuntimeArgs& a) { at::set_num_threads(checked_threads(a)); }  // LibTorch may start with one

ModelOptions runtime_model_options(const RuntimeArgs& a) {
  ModelOptions o;
  o.load.device = parse_device(a.device);
  o.load.dtype = parse_dtype(a.dtype);
  checked_threads(a);
#if TORCH_VERSION_MAJOR < 2
  if (o.load.dtype == at::kHalf && o.load.device.is_cpu())
    throw InvalidSetting("dtype", "f16 has no matrix product on the CPU in LibTorch 1.x: use bf16 or f32 there");
#endif
  if (a.loss_chunk < 1) throw InvalidSetting("loss_chunk", fmt::format("must be positive, got {}", a.loss_chunk));
  o.attention.backend = parse_attention_backend(a.attention);
  o.disable_sliding_window = !a.sliding_window;
  return o;
}

}  // namespace longrope
