// DirectoryRollback: what a failed job added to its output directory is removed, so that a model
// directory is whole or absent: the entries it added, and the directory itself when the job created it.
#pragma once

#include <set>
#include <string>

namespace longrope::formats {

class DirectoryRollback {
 public:
  // Notes what `dir` holds now. Call it once the job holds the directory's lock (formats/directory_lock.h),
  // so that what it removes can only be its own, and before it writes anything; `created` says whether
  // the job itself created the directory.
  DirectoryRollback(std::string dir, bool created);
  DirectoryRollback(const DirectoryRollback&) = delete;
  DirectoryRollback& operator=(const DirectoryRollback&) = delete;
  // Unless keep() was called: removes every entry added since construction, then the directory if the
  // job created it (and it is empty now). Never throws.
  ~DirectoryRollback();

  // The job succeeded: its output stays.
  void keep() { kept_ = true; }

 private:
  std::string dir_;
  bool created_ = false;
  std::set<std::string> before_;  // entry names present at construction
  bool kept_ = false;
};

}  // namespace longrope::formats
