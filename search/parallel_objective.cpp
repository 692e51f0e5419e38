// TBB work distribution over evaluators.
#include "search/parallel_objective.h"

#include <tbb/concurrent_queue.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace longrope {

BatchObjective make_parallel_objective(std::vector<GroupScorer> workers, size_t group_size,
                                       std::function<void(size_t, size_t, double)> on_scored) {
  if (workers.empty()) throw std::invalid_argument("no evaluators");
  if (group_size < 1) throw std::invalid_argument("candidate groups must hold at least one candidate");
  return [workers = std::move(workers), group_size, on_scored](const std::vector<Genome>& batch, const Cutoff& cutoff) {
    std::vector<Evaluation> scores(batch.size());
    const size_t groups = (batch.size() + group_size - 1) / group_size;
    // One arena slot per evaluator: a CPU evaluator's torch threads are not oversubscribed by TBB.
    // A remote evaluator's thread only waits, so evaluators may outnumber the cores TBB sees (an MPI
    // rank bound to one core hands out work to many): raise TBB's thread limit to match. (TBB obeys the
    // smallest limit alive: LibTorch's threads are OpenMP here, and nothing else sets one.)
    const size_t allowed = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
    tbb::global_control enough(tbb::global_control::max_allowed_parallelism, std::max(allowed, workers.size() + 1));
    tbb::task_arena arena(static_cast<int>(workers.size()));
    tbb::concurrent_bounded_queue<size_t> free;
    for (size_t w = 0; w < workers.size(); ++w) free.push(w);
    std::mutex report;
    size_t done = 0;
    arena.execute([&] {
      tbb::parallel_for(size_t(0), groups, [&](size_t group) {
        size_t w = 0;
        free.pop(w);
        struct Release {
          tbb::concurrent_bounded_queue<size_t>& q;
          size_t w;
          ~Release() { q.push(w); }
        } release{free, w};
        const size_t begin = group * group_size, end = std::min(batch.size(), begin + group_size);
        const std::vector<Genome> members(batch.begin() + static_cast<std::ptrdiff_t>(begin),
                                          batch.begin() + static_cast<std::ptrdiff_t>(end));
        const std::vector<Evaluation> got = workers[w](members, cutoff);
        if (got.size() != members.size()) throw std::logic_error("a scorer returned the wrong number of scores");
        std::lock_guard<std::mutex> lock(report);
        for (size_t i = begin; i < end; ++i) {
          scores[i] = got[i - begin];
          ++done;
          if (on_scored) on_scored(done, batch.size(), scores[i].score);
        }
      }, tbb::simple_partitioner());
    });
    return scores;
  };
}

}  // namespace longrope
