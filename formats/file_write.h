// Writing bytes with every failure named by its cause: the errno text of the write that failed ("No
// space left on device", "File too large"), never a generic "write failed". Every writer of the tool
// goes through write_all, directly or through FdStreamBuf.
#pragma once

#include <cstddef>
#include <streambuf>
#include <string>
#include <vector>

namespace longrope::formats {

// Writes all of `data` to `fd`, through short writes and EINTR; throws std::runtime_error
// "PATH: cannot write: <strerror>" on failure.
void write_all(int fd, const void* data, size_t size, const std::string& path);

// Appends `text` to the file at `path` (created if missing), checked like write_all: for logs that
// grow line by line (a search's generations.jsonl).
void append_to_file(const std::string& path, const std::string& text);

// A stream buffer over a descriptor that keeps the errno of its first failed write, so that a stream
// writing a format (GGUF, safetensors) reports the cause. Once a write failed, every later one fails.
class FdStreamBuf : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd);
  FdStreamBuf(const FdStreamBuf&) = delete;
  FdStreamBuf& operator=(const FdStreamBuf&) = delete;

  // 0 while every write succeeded.
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* data, std::streamsize size) override;
  int sync() override;

 private:
  bool drain();              // writes the buffer out; false (error_ set) on failure
  bool write_out(const char* data, size_t size);
  int fd_;
  int error_ = 0;
  std::vector<char> buffer_;
};

// Tests only: after `bytes` more bytes are written through write_all or an FdStreamBuf, every write
// fails with `error` (ENOSPC: a full disk without filling one). error 0 restores real writes.
void fail_writes_after_for_tests(size_t bytes, int error);

}  // namespace longrope::formats
