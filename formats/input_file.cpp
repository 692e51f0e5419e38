// open(O_NONBLOCK) + fstat before any read; the text sniff of documents.
#include "formats/input_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace longrope::formats {
namespace {

// The length of the UTF-8 sequence starting with `lead` (0: not a lead byte).
size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

}  // namespace

int open_regular_file(const std::string& path, size_t* size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO) throw std::runtime_error(path + ": is not a regular file (a socket or an unopened device)");
    throw std::runtime_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error(fmt::format("{}: cannot stat: {}", path, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    if (S_ISDIR(st.st_mode)) throw std::runtime_error(path + ": is a directory, not a file");
    throw std::runtime_error(fmt::format("{}: is not a regular file ({})", path, special_file_kind(st.st_mode, "not a file")));
  }
  // Back to blocking reads: a regular file never blocks, and the flag must not leak to readers.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  if (size) *size = static_cast<size_t>(st.st_size);
  return fd;
}

std::string read_regular_file(const std::string& path, size_t max_bytes) {
  size_t size = 0;
  const int fd = open_regular_file(path, &size);
  if (size > max_bytes) {
    ::close(fd);
    throw std::runtime_error(fmt::format("{}: {} bytes, more than such a file holds (at most {})", path, size, max_bytes));
  }
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw std::runtime_error(fmt::format("{}: cannot read: {}", path, std::strerror(err)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > max_bytes) {  // grew while being read
      ::close(fd);
      throw std::runtime_error(fmt::format("{}: more than {} bytes, more than such a file holds", path, max_bytes));
    }
  }
  ::close(fd);
  return text;
}

const char* special_file_kind(mode_t mode, const char* otherwise) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return otherwise;
}

std::string not_text_reason(std::string_view text) {
  const std::string_view head = text.substr(0, 1024);
  for (size_t i = 0; i < head.size();) {
    const auto lead = static_cast<unsigned char>(head[i]);
    if (lead == 0) return fmt::format("a NUL byte at offset {}", i);
    const size_t n = sequence_length(lead);
    if (n == 0) return fmt::format("byte 0x{:02x} at offset {} is not UTF-8", lead, i);
    for (size_t k = 1; k < n; ++k) {
      if (i + k >= head.size()) return "";  // cut by the end of the sniffed bytes
      const auto c = static_cast<unsigned char>(head[i + k]);
      const bool second = k == 1;
      // The ranges of a second byte that keep sequences shortest and out of the surrogates.
      const unsigned char low = second && lead == 0xe0 ? 0xa0 : second && lead == 0xf0 ? 0x90 : 0x80;
      const unsigned char high = second && lead == 0xed ? 0x9f : second && lead == 0xf4 ? 0x8f : 0xbf;
      if (c < low || c > high) return fmt::format("byte 0x{:02x} at offset {} is not UTF-8", c, i + k);
    }
    i += n;
  }
  return "";
}

}  // namespace longrope::formats
