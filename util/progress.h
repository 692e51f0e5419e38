// Progress reporting: a bar with ETA on a terminal, plain log lines otherwise (batch jobs, CI).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace longrope {

class Progress {
 public:
  Progress(std::string label, size_t total);
  // `note` is shown after the counts (e.g. "best ppl 12.3").
  void update(size_t done, const std::string& note = "");
  // `n` of the units counted in `done` cost nothing in this process (a resumed run's earlier work, a
  // journal's answers): the ETA's rate leaves them out, so that a resume does not promise minutes for hours.
  void skip(size_t n) { free_ += n; }
  void finish(const std::string& note = "");

 private:
  std::string label_;
  size_t total_;
  size_t free_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_log_;
};

std::string format_duration(double seconds);

// Seconds left when `done` of `total` units took `elapsed` seconds, `free_units` of them at no cost
// (resumed, or answered from a journal); negative when nothing measured yet says.
double eta_seconds(double elapsed, size_t done, size_t total, size_t free_units);

}  // namespace longrope
