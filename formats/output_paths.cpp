// The output rule: outputs against inputs (by inode and by directory), against special files, and
// against directories that cannot take them.
#include "formats/output_paths.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "util/errors.h"

namespace longrope::formats {
namespace {

namespace fs = std::filesystem;
using Kind = WritePath::Kind;

std::optional<struct stat> stat_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;  // follows links: the file a write would reach
  return st;
}

const char* special_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// `path` absolute, with the links of its existing part resolved: where a write would land.
fs::path resolved(const fs::path& path) {
  std::error_code error;
  const fs::path absolute = fs::absolute(path, error);
  if (error) return path.lexically_normal();
  const fs::path real = fs::weakly_canonical(absolute, error);
  return (error ? absolute : real).lexically_normal();
}

// Whether `inner` is `outer` or lies below it (both resolved).
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

fs::path parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// An existing output of the wrong kind: a device or FIFO (whose replacement, as root, would be /dev/null
// itself), a directory where a file goes, a file where a directory goes.
void check_existing(const WritePath& out, const struct stat& st) {
  const std::string by = out.option.empty() ? "" : fmt::format(" ({} writes {})", out.option,
                                                                out.kind == Kind::Directory ? "a directory" : "a file");
  if (out.kind == Kind::Directory) {
    if (!S_ISDIR(st.st_mode)) throw std::runtime_error(fmt::format("{}: exists and is not a directory{}", out.path, by));
    if (::access(out.path.c_str(), W_OK) != 0)
      throw std::runtime_error(fmt::format("{}: the directory is not writable: {}{}", out.path, std::strerror(errno), by));
    return;
  }
  if (S_ISDIR(st.st_mode)) throw std::runtime_error(fmt::format("{}: is a directory, not a file{}", out.path, by));
  if (!S_ISREG(st.st_mode))
    throw std::runtime_error(fmt::format("{}: is not a regular file ({}){}", out.path, special_kind(st.st_mode), by));
}

// Where a missing output goes: a file into its directory, which must exist; a directory into its
// nearest existing ancestor, which is created from.
void check_destination(const WritePath& out) {
  fs::path dir = parent_of(out.path);
  if (out.kind == Kind::Directory) {
    while (!stat_of(dir.string()) && dir.has_parent_path() && dir.parent_path() != dir) dir = dir.parent_path();
  }
  const std::optional<struct stat> st = stat_of(dir.string());
  if (!st || !S_ISDIR(st->st_mode)) {
    if (out.kind == Kind::Directory)
      throw std::runtime_error(fmt::format("{}: cannot be created: {} is not a directory", out.path, dir.string()));
    throw std::runtime_error(fmt::format("{}: directory {} does not exist", out.path, dir.string()));
  }
  if (::access(dir.c_str(), W_OK) != 0)
    throw std::runtime_error(fmt::format("{}: directory {} is not writable: {}", out.path, dir.string(), std::strerror(errno)));
}

void check_against_input(const WritePath& out, const std::optional<struct stat>& out_st, const fs::path& out_real,
                         const fs::path& out_literal, const ReadPath& in) {
  const std::optional<struct stat> in_st = stat_of(in.path);
  if (!in_st) return;  // a missing input is its reader's to report
  const bool in_dir = S_ISDIR(in_st->st_mode);
  if (out_st && out_st->st_dev == in_st->st_dev && out_st->st_ino == in_st->st_ino)
    throw UsageError(fmt::format("{} {} is the {} {} reads: writing it would destroy it", out.option, out.path,
                                 in_dir ? "directory" : "file", in.option));
  const fs::path in_real = resolved(in.path);
  if (in_dir && (within(out_real, in_real) || within(out_literal, in_real)))
    throw UsageError(fmt::format("{} {} lies inside {}, the directory {} reads: write it elsewhere", out.option, out.path, in.path,
                                 in.option));
  if (out.kind == Kind::Directory && within(in_real, out_real))
    throw UsageError(fmt::format("{} {} holds {}, which {} reads: write it elsewhere", out.option, out.path, in.path, in.option));
}

}  // namespace

void check_outputs(const std::vector<WritePath>& outputs, const std::vector<ReadPath>& inputs) {
  std::vector<fs::path> new_directories;  // directory outputs the job creates: a file output may go into one
  for (const WritePath& out : outputs)
    if (out.kind == Kind::Directory && !out.path.empty() && !stat_of(out.path)) new_directories.push_back(resolved(out.path));
  for (const WritePath& out : outputs) {
    if (out.path.empty()) continue;
    const std::optional<struct stat> out_st = stat_of(out.path);
    // The file as named (a link is replaced in its own directory) and the file it reaches.
    const fs::path out_literal = resolved(parent_of(out.path)) / fs::path(out.path).filename();
    const fs::path out_real = resolved(out.path);
    for (const ReadPath& in : inputs)
      if (!in.path.empty()) check_against_input(out, out_st, out_real, out_literal, in);
    if (out_st) check_existing(out, *out_st);
    bool in_new_directory = false;
    for (const fs::path& dir : new_directories) in_new_directory = in_new_directory || (out.kind == Kind::File && within(out_literal, dir));
    if ((out.kind == Kind::File || !out_st) && !in_new_directory) check_destination(out);  // a file is renamed into its directory
  }
}

void check_output_files(const std::string& option, const std::vector<std::string>& paths, const std::vector<ReadPath>& inputs) {
  std::vector<WritePath> outputs;
  for (const std::string& path : paths) outputs.push_back({option, path, Kind::File});
  check_outputs(outputs, inputs);
}

}  // namespace longrope::formats
