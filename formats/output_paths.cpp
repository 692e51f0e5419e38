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

#include "formats/input_file.h"
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

std::optional<struct stat> lstat_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;  // the name itself: a symbolic link is not followed
  return st;
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

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
    throw std::runtime_error(
        fmt::format("{}: is not a regular file ({}){}", out.path, special_file_kind(st.st_mode, "not a regular file"), by));
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

// A hard link to a file directly inside an input directory (a model's config.json, a document) is
// that file under another name: replacing it would destroy the input as surely as writing inside the
// directory. Only an output with more than one link can be one, so most outputs cost no scan.
void check_hard_link_into(const WritePath& out, const struct stat& out_st, const ReadPath& in) {
  if (!S_ISREG(out_st.st_mode) || out_st.st_nlink < 2) return;
  std::error_code error;
  for (fs::directory_iterator it(in.path, error), end; !error && it != end; it.increment(error)) {
    const std::optional<struct stat> st = stat_of(it->path().string());
    if (st && same_file(*st, out_st))
      throw UsageError(fmt::format("{} {} is {} (a hard link to it), inside the directory {} reads: writing it would destroy it",
                                   out.option, out.path, it->path().string(), in.option));
  }
}

void check_against_input(const WritePath& out, const std::optional<struct stat>& out_st, const fs::path& out_real,
                         const fs::path& out_literal, const ReadPath& in) {
  const std::optional<struct stat> in_st = stat_of(in.path);
  if (!in_st) return;  // a missing input is its reader's to report
  const bool in_dir = S_ISDIR(in_st->st_mode);
  if (out_st && same_file(*out_st, *in_st))
    throw UsageError(fmt::format("{} {} is the {} {} reads: writing it would destroy it", out.option, out.path,
                                 in_dir ? "directory" : "file", in.option));
  const fs::path in_real = resolved(in.path);
  if (in_dir && (within(out_real, in_real) || within(out_literal, in_real)))
    throw UsageError(fmt::format("{} {} lies inside {}, the directory {} reads: write it elsewhere", out.option, out.path, in.path,
                                 in.option));
  if (out.kind == Kind::Directory && within(in_real, out_real))
    throw UsageError(fmt::format("{} {} holds {}, which {} reads: write it elsewhere", out.option, out.path, in.path, in.option));
  if (in_dir && out_st) check_hard_link_into(out, *out_st, in);
}

// A file output is named by a file name: "" and "sub/" name none (a writer would make "sub/.tmp" or
// fail at its rename after the work is done).
void check_names_a_file(const WritePath& out) {
  if (out.kind == Kind::File && (out.path.back() == '/' || fs::path(out.path).filename() == "." || fs::path(out.path).filename() == ".."))
    throw UsageError(fmt::format("{} {}: names a directory, not a file: give a file name", out.option, out.path));
}

// The atomic rename that writes a file replaces a symbolic link itself, not the file it points to
// (/dev/stdout would become a JSON file): a link is refused rather than followed.
void check_not_a_link(const WritePath& out) {
  const std::optional<struct stat> st = lstat_of(out.path);
  if (out.kind == Kind::File && st && S_ISLNK(st->st_mode))
    throw std::runtime_error(fmt::format("{} {} is a symbolic link: name the file it points to", out.option, out.path));
}

// Two outputs of one command are two files: the same path twice (or two names of one file) would be
// written twice, the second replacing the first, and a file inside the directory output would replace
// what the command writes there (train --json OUT/model.safetensors).
void check_distinct(const std::vector<WritePath>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const WritePath& a = outputs[i];
    if (a.path.empty()) continue;
    const fs::path a_literal = resolved(parent_of(a.path)) / fs::path(a.path).filename();
    const std::optional<struct stat> a_st = stat_of(a.path);
    for (size_t j = 0; j < outputs.size(); ++j) {
      const WritePath& b = outputs[j];
      if (j == i || b.path.empty()) continue;
      const fs::path b_literal = resolved(parent_of(b.path)) / fs::path(b.path).filename();
      const std::optional<struct stat> b_st = stat_of(b.path);
      if (j > i && (a_literal == b_literal || (a_st && b_st && same_file(*a_st, *b_st))))
        throw UsageError(fmt::format("{} {} and {} {} are the same file: give each output its own path", a.option, a.path, b.option,
                                     b.path));
      if (a.kind == Kind::File && b.kind == Kind::Directory && (within(a_literal, b_literal) || within(resolved(a.path), resolved(b.path))))
        throw UsageError(fmt::format("{} {} lies inside {}, the directory {} writes: write it elsewhere", a.option, a.path, b.path,
                                     b.option));
    }
  }
}

}  // namespace

void check_outputs(const std::vector<WritePath>& outputs, const std::vector<ReadPath>& inputs) {
  for (const WritePath& out : outputs)
    if (!out.path.empty()) check_names_a_file(out);
  check_distinct(outputs);
  for (const WritePath& out : outputs) {
    if (out.path.empty()) continue;  // an option not given (an empty value is refused by the parser)
    const std::optional<struct stat> out_st = stat_of(out.path);
    // The file as named (a link is replaced in its own directory) and the file it reaches.
    const fs::path out_literal = resolved(parent_of(out.path)) / fs::path(out.path).filename();
    const fs::path out_real = resolved(out.path);
    for (const ReadPath& in : inputs)
      if (!in.path.empty()) check_against_input(out, out_st, out_real, out_literal, in);
    check_not_a_link(out);
    if (out_st) check_existing(out, *out_st);
    if (out.kind == Kind::File || !out_st) check_destination(out);  // a file is renamed into its directory
  }
}

void check_output_files(const std::string& option, const std::vector<std::string>& paths, const std::vector<ReadPath>& inputs) {
  std::vector<WritePath> outputs;
  for (const std::string& path : paths) outputs.push_back({option, path, Kind::File});
  check_outputs(outputs, inputs);
}

}  // namespace longrope::formats
