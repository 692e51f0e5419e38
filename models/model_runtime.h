// How to run a model, named as a user names it (device "cuda:0", dtype "bf16", threads, attention
// backend, Mistral's sliding window, LM-head block size), and its translation into ModelOptions.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <string>

#include "models/llama_model.h"

namespace longrope {

struct RuntimeArgs {
  std::string device = "cpu";      // cpu, cuda, cuda:N
  std::string dtype = "f32";       // weights and activations
  int threads = 0;                 // LibTorch CPU threads; 0: all cores
  std::string attention = "auto";  // auto, chunked, sdpa, full
  bool sliding_window = true;      // honour a Mistral sliding window (LongRoPE runs with it off)
  int64_t loss_chunk = 2048;       // positions per LM-head/cross-entropy block (memory against speed)
};

// "cpu", "cuda" or "cuda:N" on a machine that has it; throws InvalidSetting("device") otherwise.
c10::Device parse_device(const std::string& name);

// The device of the `local_rank`-th process on a node (an MPI rank): "cuda" means one GPU per process,
// cuda:<local_rank mod the node's device count>; any other name is kept.
std::string device_for_local_rank(const std::string& device, int local_rank);
int cuda_device_count();  // 0 without CUDA in this build or machine

// The model options the arguments name; throws InvalidSetting naming the setting (device, dtype,
// threads, attention, loss_chunk).
ModelOptions runtime_model_options(const RuntimeArgs& args);

// Sets LibTorch's CPU thread count to `args.threads` (0: every core); throws InvalidSetting("threads").
// Called where a command chooses its threads, once, before the model runs.
void set_cpu_threads(const RuntimeArgs& args);

}  // namespace longrope
