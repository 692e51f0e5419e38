// Peak GPU memory through c10's CUDA caching allocator, where this LibTorch has one.
#include "models/device_memory.h"

#include <ATen/Context.h>

#ifdef LONGROPE_CUDA_ALLOCATOR  // set by CMake where LibTorch was built with CUDA (c10_cuda exists)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace longrope {

void reset_peak_device_memory(c10::Device device) {
#ifdef LONGROPE_CUDA_ALLOCATOR
  if (device.is_cuda() && at::hasCUDA()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
#else
  (void)device;
#endif
}

std::optional<int64_t> peak_device_memory(c10::Device device) {
#ifdef LONGROPE_CUDA_ALLOCATOR
  if (!device.is_cuda() || !at::hasCUDA()) return std::nullopt;
  // allocated_bytes[0] is the aggregate over pool kinds in every LibTorch since 1.x.
  return c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0).allocated_bytes[0].peak;
#else
  (void)device;
  return std::nullopt;
#endif
}

}  // namespace longrope
