#include "models/forward_profile.h"

namespace longrope {
namespace {
thread_local ForwardProfile* active_profile = nullptr;
}  // namespace

void ForwardProfile::add(const char* stage, double seconds, double flops) {
  for (StageTotals& s : stages)
    if (s.stage == stage) {
      s.calls += 1;
      s.seconds += seconds;
      s.flops += flops;
      return;
    }
  stages.push_back({stage, 1, seconds, flops});
}

double ForwardProfile::total_seconds() const {
  double t = 0;
  for (const StageTotals& s : stages) t += s.seconds;
  return t;
}

double ForwardProfile::total_flops() const {
  double f = 0;
  for (const StageTotals& s : stages) f += s.flops;
  return f;
}

ProfilingScope::ProfilingScope(ForwardProfile* profile) : previous_(active_profile) { active_profile = profile; }
ProfilingScope::~ProfilingScope() { active_profile = previous_; }

StageTimer::StageTimer(const char* stage, double flops) : stage_(stage), flops_(flops), profile_(active_profile) {
  if (profile_ != nullptr) start_ = std::chrono::steady_clock::now();
}

StageTimer::~StageTimer() {
  if (profile_ != nullptr)
    profile_->add(stage_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(), flops_);
}

}  // namespace longrope
