// How many threads the tool's own CPU kernels (models/cpu_threads.h) take when LibTorch code calls them.
#pragma once

#include <cstdint>

namespace longrope {

// LibTorch's intra-op thread count (--threads), or 1 inside one of LibTorch's parallel regions, whose
// workers already hold the cores.
int64_t kernel_threads();

}  // namespace longrope
