// MappedFile: POSIX mmap wrapper that reports failures as FormatError.
#include "formats/mapped_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "formats/format_error.h"
#include "formats/input_file.h"

namespace longrope::formats {

namespace {

[[noreturn]] void fail(const std::string& path, const char* what, int err) {
  throw FormatError(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
}

}  // namespace

MappedFile MappedFile::open(const std::string& path) {
  size_t size = 0;
  int fd = -1;
  try {
    fd = open_regular_file(path, &size);  // a FIFO is refused before it can block
  } catch (const std::runtime_error& e) {
    throw FormatError(e.what());
  }
  if (size == 0) {  // mmap rejects zero-length mappings, yet an empty file is not an error here
    ::close(fd);
    return MappedFile(path, nullptr, 0);
  }
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);  // the mapping keeps its own reference to the file
  if (addr == MAP_FAILED) fail(path, "cannot mmap", err);
  return MappedFile(path, static_cast<const uint8_t*>(addr), size);
}

MappedFile::MappedFile(std::string path, const uint8_t* data, size_t size)
    : path_(std::move(path)), data_(data), size_(size) {}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() { unmap(); }

void MappedFile::unmap() noexcept {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace longrope::formats
