// AtomicFile: write to a temp file, fsync, rename; readers never see a half-written output.
#pragma once

#include <fstream>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace longrope::formats {

// A crash or exception mid-write leaves the old file (or none) at `path`, never a truncated one.
// The temp file `path + ".tmp.<pid>"` sits beside the target so the rename stays on one
// filesystem. Creates no directories.
class AtomicFile {
 public:
  // Throws std::runtime_error naming the path when the temp file cannot be created.
  explicit AtomicFile(const std::string& path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  // Removes the temp file unless commit() succeeded.
  ~AtomicFile();

  std::ostream& stream() { return out_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

  // Flushes, checks the stream, fsyncs and renames into place; throws std::runtime_error naming
  // the path on any failure (the temp file is then removed by the destructor).
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  std::ofstream out_;
  bool committed_ = false;
};

// Replaces `path` with exactly `bytes`, atomically.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Several outputs of one job: every file is written in full and checked before any replaces its
// target, so a failure leaves none of them (a directory in the way of the second output must not
// leave the first one written).
void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& path_and_bytes);

// Throws std::runtime_error naming `path` when a file cannot be written there: it is a directory, or
// its directory does not exist. Called before hours of work whose result goes to `path`.
void require_writable(const std::string& path);

}  // namespace longrope::formats
