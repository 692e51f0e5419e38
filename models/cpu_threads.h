// Work split over plain std::threads for the tool's own CPU kernels. Not at::parallel_for: its OpenMP
// loop is a header template, serial in a file built without -fopenmp (as the model's files are).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace longrope {

// body(begin, end) over `count` items in min(threads, count) contiguous ranges of sizes differing by
// at most one, the first on the calling thread. Every range is non-empty, so exactly that many workers
// run: flash-cpu's body ignores its range and pulls tasks from a shared counter, and counts on them.
// A thread start costs tens of microseconds: callers hand over milliseconds of work.
inline void run_on_threads(int64_t count, int64_t threads, const std::function<void(int64_t, int64_t)>& body) {
  if (count <= 0) return;
  const int64_t workers = std::max<int64_t>(1, std::min(threads, count));
  const auto bound = [count, workers](int64_t w) { return w * count / workers; };
  std::vector<std::thread> others;
  others.reserve(static_cast<size_t>(workers - 1));
  for (int64_t w = 1; w < workers; ++w) others.emplace_back([&body, &bound, w] { body(bound(w), bound(w + 1)); });
  body(0, bound(1));
  for (std::thread& t : others) t.join();
}

}  // namespace longrope
