// Progress bar / log lines on stderr.
#include "util/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace longrope {

std::string format_duration(double s) {
  if (s < 0 || s != s) return "?";
  const long total = static_cast<long>(s + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02d}m", total / 3600, static_cast<int>((total % 3600) / 60));
  if (total >= 60) return fmt::format("{}m{:02d}s", total / 60, static_cast<int>(total % 60));
  return fmt::format("{}s", total);
}

double eta_seconds(double elapsed, size_t done, size_t total, size_t free_units) {
  if (done <= free_units) return -1;
  return elapsed * static_cast<double>(total - std::min(done, total)) / static_cast<double>(done - free_units);
}

Progress::Progress(std::string label, size_t total)
    : label_(std::move(label)), total_(total), tty_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()), last_log_(start_) {}

void Progress::update(size_t done, const std::string& note) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = eta_seconds(elapsed, done, total_, free_);
  if (tty_) {
    const int width = 30;
    const int filled = total_ ? static_cast<int>(width * std::min(done, total_) / total_) : 0;
    fmt::print(stderr, "\r{} [{}{}] {}/{} elapsed {} eta {} {}\033[K", label_, std::string(filled, '#'),
               std::string(width - filled, '.'), done, total_, format_duration(elapsed), format_duration(eta), note);
    std::fflush(stderr);
    return;
  }
  // Plain lines: at most one every 10 s, plus the last one.
  if (done < total_ && std::chrono::duration<double>(now - last_log_).count() < 10.0) return;
  last_log_ = now;
  fmt::print(stderr, "{}: {}/{} elapsed {} eta {} {}\n", label_, done, total_, format_duration(elapsed), format_duration(eta), note);
}

void Progress::finish(const std::string& note) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_) fmt::print(stderr, "\r\033[K");
  fmt::print(stderr, "{}: done {}/{} in {} {}\n", label_, total_, total_, format_duration(elapsed), note);
}

}  // namespace longrope
