// The GPU memory a run took at its peak, from LibTorch's caching allocator (nothing on the CPU, or
// in a build whose LibTorch has no CUDA).
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <optional>

namespace longrope {

// Starts a new peak for `device`.
void reset_peak_device_memory(c10::Device device);
// Bytes held by tensors at the peak since the last reset; nullopt off CUDA.
std::optional<int64_t> peak_device_memory(c10::Device device);

}  // namespace longrope
