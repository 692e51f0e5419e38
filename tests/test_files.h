// Whole-file reads and writes and temp directories for tests (torch-free: the unit and model test
// binaries share them).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace longrope {

inline std::string text_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

// A fresh, empty directory for one test: named by `name`, the process and the running test, so that
// neither parallel test processes nor the tests of one binary share it. They are removed when the
// test binary exits: runs leave nothing in the temp directory.
inline std::filesystem::path fresh_temp_dir(const std::string& name) {
  struct RemovedAtExit {
    std::vector<std::filesystem::path> dirs;
    ~RemovedAtExit() {
      std::error_code ignored;
      for (const auto& dir : dirs) std::filesystem::remove_all(dir, ignored);
    }
  };
  static RemovedAtExit made;
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string suffix = test == nullptr ? "" : std::string("-") + test->test_suite_name() + "." + test->name();
  const auto dir = std::filesystem::temp_directory_path() / ("longrope-test-" + name + "-" + std::to_string(getpid()) + suffix);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  made.dirs.push_back(dir);
  return dir;
}

}  // namespace longrope
