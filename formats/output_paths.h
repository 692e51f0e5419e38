// The one rule for where a command may write, checked before any work starts: an output never
// replaces an input, never lands in a directory being read, and never goes to a device or FIFO. A
// command lists what it reads and what it writes, and calls check_outputs once, before loading a
// model or scoring anything, so that nothing is computed and then lost.
#pragma once

#include <string>
#include <vector>

namespace longrope::formats {

// A file or directory a command reads, named by the option that gives it ("--model", "--data"). An
// empty path is skipped (an option not given).
struct ReadPath {
  std::string option;
  std::string path;
};

// What a command writes: a file it replaces whole, or a directory it creates or fills.
struct WritePath {
  enum class Kind { File, Directory };
  std::string option;
  std::string path;
  Kind kind = Kind::File;
};

// Throws, naming the output's option, when any output
//   is, or resolves to (a symbolic or hard link: the same inode), a file it reads, is a hard link to a
//   file directly inside a directory it reads, or lies inside a directory it reads (a model
//   directory, a directory of documents), or for a directory output, is one of them or holds one of
//   them; is the same file as another output, or a file inside a directory output; or, for a file,
//   ends in '/' (names no file)                                           → UsageError (exit 2);
//   is an existing symbolic link (the rename that writes a file would replace the link itself: name
//   the file it points to), exists as a device, FIFO or socket, or as a directory where a file is
//   written (a file where a directory is), or would go into a directory that is missing or not
//   writable                                                              → std::runtime_error.
void check_outputs(const std::vector<WritePath>& outputs, const std::vector<ReadPath>& inputs);

// check_outputs for files alone: every path in `paths` as a file written by `option`.
void check_output_files(const std::string& option, const std::vector<std::string>& paths, const std::vector<ReadPath>& inputs);

}  // namespace longrope::formats
