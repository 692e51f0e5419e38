// write(2) loops with named errors, and the stream buffer the format writers use.
#include "formats/file_write.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace longrope::formats {
namespace {

constexpr size_t kBufferBytes = size_t{1} << 16;

// The injected failure of fail_writes_after_for_tests: bytes still allowed, and the errno after them.
std::atomic<int> injected_error{0};
std::atomic<size_t> injected_allowance{0};

// One write(2), or the injected failure.
ssize_t write_some(int fd, const void* data, size_t size) {
  if (const int error = injected_error.load(); error != 0) {
    const size_t allowed = injected_allowance.load();
    if (allowed == 0) {
      errno = error;
      return -1;
    }
    size = std::min(size, allowed);
    injected_allowance.store(allowed - size);
  }
  return ::write(fd, data, size);
}

// Writes all of it; the errno of the failure otherwise.
int write_fully(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write_some(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

void write_all(int fd, const void* data, size_t size, const std::string& path) {
  if (const int error = write_fully(fd, static_cast<const char*>(data), size); error != 0)
    throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(error)));
}

void append_to_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot open to append: {}", path, std::strerror(errno)));
  const int error = write_fully(fd, text.data(), text.size());
  const int closed = ::close(fd) == 0 ? 0 : errno;
  if (error != 0 || closed != 0) throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(error ? error : closed)));
}

FdStreamBuf::FdStreamBuf(int fd) : fd_(fd), buffer_(kBufferBytes) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }

bool FdStreamBuf::write_out(const char* data, size_t size) {
  if (error_ != 0) return false;
  error_ = write_fully(fd_, data, size);
  return error_ == 0;
}

bool FdStreamBuf::drain() {
  const size_t pending = static_cast<size_t>(pptr() - pbase());
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  return write_out(buffer_.data(), pending);
}

FdStreamBuf::int_type FdStreamBuf::overflow(int_type c) {
  if (!drain()) return traits_type::eof();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  return c;
}

std::streamsize FdStreamBuf::xsputn(const char* data, std::streamsize size) {
  const auto n = static_cast<size_t>(size);
  if (n == 0) return 0;  // an empty tensor's data may be null: nothing to copy
  if (n <= static_cast<size_t>(epptr() - pptr())) {
    std::memcpy(pptr(), data, n);
    pbump(static_cast<int>(n));
    return size;
  }
  // Large blocks (tensors) go straight out, after what is buffered.
  if (!drain() || !write_out(data, n)) return 0;
  return size;
}

int FdStreamBuf::sync() { return drain() ? 0 : -1; }

void fail_writes_after_for_tests(size_t bytes, int error) {
  injected_allowance.store(bytes);
  injected_error.store(error);
}

}  // namespace longrope::formats
