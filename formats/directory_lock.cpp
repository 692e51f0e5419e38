// flock(2) on the directory's own descriptor; the holder's pid comes from /proc/locks.
#include "formats/directory_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace longrope::formats {
namespace {

// The pid holding a flock on `st`'s inode, from lines like "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF".
std::string lock_holder(const struct stat& st) {
  std::ifstream locks("/proc/locks");
  const std::string inode = fmt::format("{:02x}:{:02x}:{}", major(st.st_dev), minor(st.st_dev), st.st_ino);
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string number, kind, mode, access, pid, where;
    fields >> number >> kind >> mode >> access >> pid >> where;
    if (kind == "FLOCK" && where == inode) return pid;
  }
  return "unknown";
}

}  // namespace

DirectoryLock DirectoryLock::acquire(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot open the directory to lock it: {}", dir, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    struct stat st {};
    const bool known = ::fstat(fd, &st) == 0;
    ::close(fd);
    if (err == EWOULDBLOCK)
      throw std::runtime_error(fmt::format("{}: another longrope (pid {}) is writing here; wait for it to finish, or stop it", dir,
                                           known ? lock_holder(st) : "unknown"));
    throw std::runtime_error(fmt::format("{}: cannot lock: {}", dir, std::strerror(err)));
  }
  return DirectoryLock(fd);
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace longrope::formats
