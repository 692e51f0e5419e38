// Reading an input file: a regular file, checked before a byte is read. A FIFO given as config.json
// would block the open forever and a device would never end, so the descriptor is opened without
// blocking and its kind decided by fstat before anything else happens.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace longrope::formats {

// JSON, tables and tokenizers this tool reads whole are far below this (a large tokenizer.json is
// tens of MB); a file beyond it is not one of them.
inline constexpr size_t kMaxWholeFileBytes = size_t{1} << 30;

// A descriptor of the regular file at `path`, opened read-only without blocking; `size` receives its
// size. Throws std::runtime_error "PATH: cannot open: <strerror>" (a missing file too), "PATH: is a
// directory, not a file" or "PATH: is not a regular file (a FIFO)".
int open_regular_file(const std::string& path, size_t* size);

// The whole regular file at `path`; refused as open_regular_file refuses, and when it holds more than
// `max_bytes` ("PATH: N bytes, more than such a file holds").
std::string read_regular_file(const std::string& path, size_t max_bytes = kMaxWholeFileBytes);

// A file type's name for "PATH: is not a regular file (KIND)": "a FIFO", "a character device", "a block
// device", "a socket", else `otherwise`.
const char* special_file_kind(mode_t mode, const char* otherwise);

// Why the opening bytes of a file given as text are not text (a NUL byte, or invalid UTF-8 in the
// first KiB: a model file or token ids given as documents), or empty when they are. A sequence cut at
// the end of `head` is not invalid.
std::string not_text_reason(std::string_view head);

}  // namespace longrope::formats
