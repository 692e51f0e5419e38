// Removing what a failed job added to its output directory.
#include "formats/directory_rollback.h"

#include <filesystem>
#include <utility>
#include <vector>

namespace longrope::formats {

namespace fs = std::filesystem;

DirectoryRollback::DirectoryRollback(std::string dir, bool created) : dir_(std::move(dir)), created_(created) {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, error)) before_.insert(entry.path().filename().string());
}

DirectoryRollback::~DirectoryRollback() {
  if (kept_) return;
  std::error_code error;
  if (!fs::is_directory(dir_, error)) return;
  std::vector<fs::path> added;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, error))
    if (!before_.count(entry.path().filename().string())) added.push_back(entry.path());
  for (const fs::path& path : added) fs::remove_all(path, error);
  if (created_) fs::remove(dir_, error);  // only when empty: never what someone else put there meanwhile
}

}  // namespace longrope::formats
