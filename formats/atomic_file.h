// AtomicFile: write to a temp file, fsync, rename; readers never see a half-written output.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace longrope::formats {

class FdStreamBuf;

// A crash or exception mid-write leaves the old file (or none) at `path`, never a truncated one, and
// no temp file (a full disk or a file-size limit is reported naming `path` and the cause). The temp
// file `path + ".tmp.<pid>"` sits beside the target so the rename stays on one filesystem. Creates
// no directories.
class AtomicFile {
 public:
  // Throws std::runtime_error naming the path when it may not be written (formats/output_paths.h:
  // a directory, a device or FIFO, a missing or read-only directory) or the temp file cannot be created.
  explicit AtomicFile(const std::string& path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  // Removes the temp file unless commit() succeeded.
  ~AtomicFile();

  std::ostream& stream() { return *out_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

  // Writes out what the stream holds; throws std::runtime_error "PATH: cannot write: <cause>" when any
  // write so far failed. For a caller that reads the temp file back before commit().
  void flush();
  // flush(), fsync and rename into place; throws std::runtime_error naming the path and the cause on
  // any failure (the temp file is then removed by the destructor).
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::unique_ptr<FdStreamBuf> buffer_;
  std::unique_ptr<std::ostream> out_;
  bool committed_ = false;
};

// Replaces `path` with exactly `bytes`, atomically.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Several outputs of one job: every file is written in full and checked before any replaces its
// target, so a failure leaves none of them (a directory in the way of the second output must not
// leave the first one written).
void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& path_and_bytes);

}  // namespace longrope::formats
