#include "models/kernel_threads.h"

#include <ATen/Parallel.h>

#include <algorithm>

namespace longrope {

int64_t kernel_threads() { return at::in_parallel_region() ? 1 : std::max(1, at::get_num_threads()); }

}  // namespace longrope
