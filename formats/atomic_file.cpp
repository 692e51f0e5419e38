// AtomicFile: temp file + fsync + rename.
#include "formats/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace longrope::formats {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw std::runtime_error(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
}

// fsync so the rename cannot become durable before the data does (ext4 delayed allocation).
void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot reopen for fsync", errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) fail(path, "fsync failed", err);
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The rename would replace a device, FIFO or socket with a regular file (as root, /dev/null itself).
void refuse_special_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) throw std::runtime_error(path + ": is a directory, not a file");
  if (!S_ISREG(st.st_mode))
    throw std::runtime_error(path + ": is not a regular file (a device, FIFO or socket); write to a file instead");
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path) : path_(path), temp_path_(fmt::format("{}.tmp.{}", path, ::getpid())) {
  refuse_special_file(path_);
  errno = 0;
  out_.open(temp_path_, std::ios::binary | std::ios::trunc);
  if (!out_.is_open()) {
    fail(path_, fmt::format("cannot create temp file '{}'", temp_path_), errno != 0 ? errno : EIO);
  }
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (out_.is_open()) out_.close();
  std::remove(temp_path_.c_str());
}

void AtomicFile::commit() {
  if (committed_) throw std::logic_error(fmt::format("{}: AtomicFile committed twice", path_));
  errno = 0;
  out_.flush();
  if (!out_) fail(path_, "write failed", errno != 0 ? errno : EIO);
  out_.close();
  if (out_.fail()) fail(path_, "close failed", errno != 0 ? errno : EIO);
  fsync_path(temp_path_, O_WRONLY);
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    fail(path_, fmt::format("cannot rename '{}' into place", temp_path_), errno);
  }
  committed_ = true;
  // Make the rename itself durable; the file is already complete, so failure here is not fatal.
  int dir_fd = ::open(parent_dir(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

void require_writable(const std::string& path) {
  refuse_special_file(path);
  struct stat st {};
  const std::string dir = parent_dir(path);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw std::runtime_error(path + ": directory " + dir + " does not exist");
  if (::access(dir.c_str(), W_OK) != 0) throw std::runtime_error(path + ": directory " + dir + " is not writable");
}

void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& outputs) {
  for (const auto& [path, bytes] : outputs) require_writable(path);
  std::vector<std::unique_ptr<AtomicFile>> files;
  for (const auto& [path, bytes] : outputs) {
    files.push_back(std::make_unique<AtomicFile>(path));
    files.back()->stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  for (auto& file : files) file->commit();
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  AtomicFile file(path);
  file.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.commit();
}

}  // namespace longrope::formats
