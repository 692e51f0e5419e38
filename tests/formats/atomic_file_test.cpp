// Tests for AtomicFile / write_file_atomically and MappedFile.
#include "formats/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "formats/format_error.h"
#include "formats/mapped_file.h"
#include "tests/test_files.h"

namespace longrope::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir("atomic");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  size_t entries() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }

  fs::path dir_;
};

TEST_F(AtomicFileTest, CommitRenamesIntoPlace) {
  const std::string target = path("out.bin");
  std::string temp;
  {
    AtomicFile file(target);
    temp = file.temp_path();
    EXPECT_THAT(temp, HasSubstr(target + ".tmp."));
    file.stream() << "hello";
    EXPECT_FALSE(fs::exists(target)) << "target must not appear before commit";
    file.commit();
  }
  EXPECT_EQ(slurp(target), "hello");
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, DestructionWithoutCommitLeavesNothing) {
  const std::string target = path("out.bin");
  std::string temp;
  {
    AtomicFile file(target);
    temp = file.temp_path();
    file.stream() << "partial";
    EXPECT_TRUE(fs::exists(temp));
  }
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(entries(), 0u);
}

TEST_F(AtomicFileTest, ExceptionMidWriteKeepsOldContents) {
  const std::string target = path("out.bin");
  write_file_atomically(target, "old");
  try {
    AtomicFile file(target);
    file.stream() << "new but unfinished";
    throw std::runtime_error("simulated failure");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(slurp(target), "old");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, WriteFileAtomicallyReplacesBinaryContents) {
  const std::string target = path("bytes.bin");
  write_file_atomically(target, "first");
  const std::string binary("a\0b\xff\n", 5);
  write_file_atomically(target, binary);
  EXPECT_EQ(slurp(target), binary);
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, MissingDirectoryIsNotCreated) {
  const std::string target = path("no/such/dir/out.bin");
  try {
    AtomicFile file(target);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(target));
  }
  EXPECT_FALSE(fs::exists(dir_ / "no"));
}

TEST_F(AtomicFileTest, CommitTwiceIsAnError) {
  AtomicFile file(path("x"));
  file.commit();
  EXPECT_THROW(file.commit(), std::logic_error);
}

TEST_F(AtomicFileTest, MappedFileReadsContentsAndMoves) {
  write_file_atomically(path("m.bin"), "abc");
  MappedFile a = MappedFile::open(path("m.bin"));
  ASSERT_EQ(a.size(), 3u);
  const uint8_t* data = a.data();
  MappedFile b = std::move(a);
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), b.size()), "abc");
  EXPECT_EQ(b.path(), path("m.bin"));
}

TEST_F(AtomicFileTest, MappedFileAllowsEmptyFile) {
  write_file_atomically(path("empty"), "");
  MappedFile m = MappedFile::open(path("empty"));
  EXPECT_EQ(m.size(), 0u);
}

TEST_F(AtomicFileTest, MappedFileReportsMissingFile) {
  const std::string missing = path("missing.bin");
  try {
    MappedFile::open(missing);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot open: No such file or directory");
  }
  EXPECT_THROW(MappedFile::open(dir_.string()), FormatError);
}

}  // namespace
}  // namespace longrope::formats
