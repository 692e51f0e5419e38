// AtomicFile: temp file + fsync + rename.
#include "formats/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "formats/file_write.h"
#include "formats/output_paths.h"

namespace longrope::formats {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw std::runtime_error(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path) : path_(path), temp_path_(fmt::format("{}.tmp.{}", path, ::getpid())) {
  check_outputs({{"", path_, WritePath::Kind::File}}, {});  // the rename would replace a device or FIFO (as root, /dev/null itself)
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) fail(path_, fmt::format("cannot create temp file '{}'", temp_path_), errno);
  buffer_ = std::make_unique<FdStreamBuf>(fd_);
  out_ = std::make_unique<std::ostream>(buffer_.get());
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (fd_ >= 0) ::close(fd_);
  std::remove(temp_path_.c_str());
}

void AtomicFile::flush() {
  out_->flush();
  if (buffer_->error() != 0) fail(path_, "cannot write", buffer_->error());
  if (!*out_) fail(path_, "cannot write", EIO);
}

void AtomicFile::commit() {
  if (committed_) throw std::logic_error(fmt::format("{}: AtomicFile committed twice", path_));
  flush();
  // fsync so the rename cannot become durable before the data does (ext4 delayed allocation); a full
  // disk may be told only here.
  if (::fsync(fd_) != 0) fail(path_, "cannot write", errno);
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) fail(path_, "cannot write", errno);
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

void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::vector<std::unique_ptr<AtomicFile>> files;
  for (const auto& [path, bytes] : outputs) {
    files.push_back(std::make_unique<AtomicFile>(path));
    files.back()->stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  for (auto& file : files) file->flush();  // every file written in full before any replaces its target
  for (auto& file : files) file->commit();
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  AtomicFile file(path);
  file.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.commit();
}

}  // namespace longrope::formats
