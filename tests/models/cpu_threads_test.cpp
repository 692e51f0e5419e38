// run_on_threads: every item exactly once, in exactly min(threads, count) non-empty ranges (flash-cpu's
// task loop ignores the ranges and counts on that many workers).
#include "models/cpu_threads.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace longrope {
namespace {

TEST(RunOnThreads, CoversEveryItemOnceInMinThreadsCountNonEmptyRanges) {
  for (int64_t count : {1, 2, 7, 20, 33, 96, 1000}) {
    for (int64_t threads : {1, 2, 3, 16, 64}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(count));
      std::mutex m;
      std::vector<std::pair<int64_t, int64_t>> ranges;
      run_on_threads(count, threads, [&](int64_t begin, int64_t end) {
        {
          std::lock_guard<std::mutex> lock(m);
          ranges.emplace_back(begin, end);
        }
        for (int64_t i = begin; i < end; ++i) seen[static_cast<size_t>(i)]++;
      });
      const int64_t expected = std::min(threads, count);
      ASSERT_EQ(static_cast<int64_t>(ranges.size()), expected) << count << " items, " << threads << " threads";
      for (const auto& [begin, end] : ranges) {
        EXPECT_LT(begin, end);
        EXPECT_LE(end - begin, (count + expected - 1) / expected);  // sizes differ by at most one
        EXPECT_GE(end - begin, count / expected);
      }
      for (int64_t i = 0; i < count; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)].load(), 1) << "item " << i;
    }
  }
}

TEST(RunOnThreads, NothingToDoRunsNothing) {
  int calls = 0;
  run_on_threads(0, 4, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace longrope
