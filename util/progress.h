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
  void finish(const std::string& note = "");

 private:
  std::string label_;
  size_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_log_;
};

std::string format_duration(double seconds);

}  // namespace longrope
