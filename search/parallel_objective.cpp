// TBB work distribution over evaluators.
#include "search/parallel_objective.h"

#include <tbb/concurrent_queue.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

namespace longrope {

BatchObjective make_parallel_objective(std::vector<CandidateScorer> workers,
                                       std::function<void(size_t, size_t, double)> on_scored) {
  if (workers.empty()) throw std::invalid_argument("no evaluators");
  return [workers = std::move(workers), on_scored](const std::vector<Genome>& batch) {
    std::vector<double> scores(batch.size());
    // One arena slot per evaluator: a CPU evaluator's torch threads are not oversubscribed by TBB.
    tbb::task_arena arena(static_cast<int>(workers.size()));
    tbb::concurrent_bounded_queue<size_t> free;
    for (size_t w = 0; w < workers.size(); ++w) free.push(w);
    std::mutex report;
    size_t done = 0;
    arena.execute([&] {
      tbb::parallel_for(size_t(0), batch.size(), [&](size_t i) {
        size_t w = 0;
        free.pop(w);
        struct Release {
          tbb::concurrent_bounded_queue<size_t>& q;
          size_t w;
          ~Release() { q.push(w); }
        } release{free, w};
        scores[i] = workers[w](batch[i]);
        std::lock_guard<std::mutex> lock(report);
        ++done;
        if (on_scored) on_scored(done, batch.size(), scores[i]);
      });
    });
    return scores;
  };
}

}  // namespace longrope
