// Work split over plain std::threads for the tool's own CPU kernels. Not at::parallel_for: its OpenMP
// loop is a header template, serial in a file built without -fopenmp (as the model's files are).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace longrope {

// body(begin, end) over `count` items in at most `threads` contiguous ranges, the first on the
// calling thread. A thread start costs tens of microseconds: callers hand over milliseconds of work.
inline void run_on_threads(int64_t count, int64_t threads, const std::function<void(int64_t, int64_t)>& body) {
  if (count <= 0) return;
  const int64_t workers = std::max<int64_t>(1, std::min(threads, count)), chunk = (count + workers - 1) / workers;
  std::vector<std::thread> others;
  for (int64_t w = 1; w < workers && w * chunk < count; ++w)
    others.emplace_back([&body, w, chunk, count] { body(w * chunk, std::min(count, (w + 1) * chunk)); });
  body(0, std::min(count, chunk));
  for (std::thread& t : others) t.join();
}

}  // namespace longrope
