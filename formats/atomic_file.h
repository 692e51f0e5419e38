// AtomicFile: write to a temp file, fsync, rename; readers never see a half-written output.
#pragma once

#include <fstream>
#include <ostream>
#include <string>

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

}  // namespace longrope::formats
