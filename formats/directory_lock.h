// DirectoryLock: one writer per run or model directory. An advisory flock on the directory itself,
// held for the life of the object and released by the kernel when the process ends: a lock left by
// a killed process is simply taken over, and nothing is left in the directory.
#pragma once

#include <string>

namespace longrope::formats {

class DirectoryLock {
 public:
  // Locks `dir` (which must exist). Throws std::runtime_error at once, without waiting, naming the
  // directory and the pid of the process that holds it.
  static DirectoryLock acquire(const std::string& dir);

  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  DirectoryLock(const DirectoryLock&) = delete;
  ~DirectoryLock();

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace longrope::formats
