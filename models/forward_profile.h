// Where a forward's time goes: wall seconds and model FLOPs per stage (projections, attention, MLP,
// norms, LM head, loss), for `eval --profile`. CPU work is synchronous, so a stage's wall time is its
// own; a profile of CUDA work would time launches, and is refused there.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace longrope {

struct StageTotals {
  std::string stage;
  int64_t calls = 0;
  double seconds = 0;
  double flops = 0;  // multiply-adds × 2 the stage does for the model (causal attention: the lower triangle)
};

// The stages in the order they were first timed.
struct ForwardProfile {
  std::vector<StageTotals> stages;
  void add(const char* stage, double seconds, double flops);
  double total_seconds() const;
  double total_flops() const;
};

// Profiling on this thread goes to `profile` while the scope lives (the forward's code runs on the
// calling thread; LibTorch's own threads are inside its ops).
class ProfilingScope {
 public:
  explicit ProfilingScope(ForwardProfile* profile);
  ~ProfilingScope();
  ProfilingScope(const ProfilingScope&) = delete;
  ProfilingScope& operator=(const ProfilingScope&) = delete;

 private:
  ForwardProfile* previous_;
};

// Times one stage into the active profile, if any (without one it costs a pointer test).
class StageTimer {
 public:
  StageTimer(const char* stage, double flops);
  ~StageTimer();
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  const char* stage_;
  double flops_;
  ForwardProfile* profile_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace longrope
