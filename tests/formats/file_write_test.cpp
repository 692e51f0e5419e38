// A full disk and a file-size limit: every writer names the file and the cause, and leaves no temp
// file. ENOSPC is injected (no disk is filled); EFBIG comes from a real RLIMIT_FSIZE. And the reading
// side: a FIFO is refused before it can block, a binary file given as text is told.
#include "formats/file_write.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <functional>
#include <string>

#include "formats/atomic_file.h"
#include "formats/directory_rollback.h"
#include "formats/input_file.h"
#include "formats/mapped_file.h"
#include "tests/test_files.h"

namespace longrope::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class FileWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir("file-write");
  }
  void TearDown() override {
    fail_writes_after_for_tests(0, 0);
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  size_t entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator())); }

  fs::path dir_;
};

std::string error_of(const std::function<void()>& write) {
  try {
    write();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(FileWriteTest, AFullDiskIsNamedAndLeavesTheOldFileAndNoTemp) {
  write_text(path("table.json"), "old");
  fail_writes_after_for_tests(100, ENOSPC);
  EXPECT_EQ(error_of([&] { write_file_atomically(path("table.json"), std::string(5000, 'x')); }),
            path("table.json") + ": cannot write: No space left on device");
  fail_writes_after_for_tests(0, 0);
  EXPECT_EQ(text_of(path("table.json")), "old");
  EXPECT_EQ(entries(), 1u) << "the temp file was left";
}

TEST_F(FileWriteTest, AFullDiskMidStreamIsNamedByTheFlush) {
  // A format writer (GGUF, safetensors) streams through the buffer; the cause survives to the flush.
  AtomicFile file(path("model.gguf"));
  fail_writes_after_for_tests(1 << 16, ENOSPC);
  file.stream() << std::string(1 << 18, 'x');
  EXPECT_EQ(error_of([&] { file.flush(); }), path("model.gguf") + ": cannot write: No space left on device");
}

TEST_F(FileWriteTest, SeveralOutputsFailTogether) {
  fail_writes_after_for_tests(10, ENOSPC);
  EXPECT_THAT(error_of([&] { write_files_atomically({{path("a.csv"), "aaaa"}, {path("b.json"), std::string(100, 'b')}}); }),
              HasSubstr("No space left on device"));
  EXPECT_EQ(entries(), 0u) << "a.csv must not be written when b.json cannot be";
}

TEST_F(FileWriteTest, AppendedLogsNameTheCause) {
  fail_writes_after_for_tests(0, ENOSPC);
  EXPECT_EQ(error_of([&] { append_to_file(path("generations.jsonl"), "{}\n"); }),
            path("generations.jsonl") + ": cannot write: No space left on device");
}

TEST_F(FileWriteTest, AFileSizeLimitIsFileTooLarge) {
  // What ulimit -f does: without SIGXFSZ ignored (main does), the kernel would end the process.
  const auto previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit limited = saved;
  limited.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  const std::string error = error_of([&] { write_file_atomically(path("big.npy"), std::string(100000, 'x')); });
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);
  EXPECT_EQ(error, path("big.npy") + ": cannot write: File too large");
  EXPECT_EQ(entries(), 0u) << "the temp file was left";
}

TEST_F(FileWriteTest, AFailedModelWriteRemovesWhatItAdded) {
  {
    DirectoryRollback rollback(path("new-model"), /*created=*/true);
    fs::create_directories(path("new-model"));
    write_text(path("new-model/model.safetensors"), "half");
  }
  EXPECT_FALSE(fs::exists(path("new-model")));
  fs::create_directories(path("kept"));
  write_text(path("kept/notes.txt"), "mine");
  {
    DirectoryRollback rollback(path("kept"), /*created=*/false);
    write_text(path("kept/config.json"), "{}");
  }
  EXPECT_TRUE(fs::exists(path("kept/notes.txt")));
  EXPECT_FALSE(fs::exists(path("kept/config.json")));
  {
    DirectoryRollback rollback(path("kept"), /*created=*/false);
    write_text(path("kept/config.json"), "{}");
    rollback.keep();
  }
  EXPECT_TRUE(fs::exists(path("kept/config.json")));
}

TEST_F(FileWriteTest, AFifoIsRefusedBeforeItCanBlock) {
  ASSERT_EQ(::mkfifo(path("config.json").c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { read_regular_file(path("config.json")); }), path("config.json") + ": is not a regular file (a FIFO)");
  EXPECT_EQ(error_of([&] { MappedFile::open(path("config.json")); }), path("config.json") + ": is not a regular file (a FIFO)");
  EXPECT_EQ(error_of([&] { read_regular_file(dir_.string()); }), dir_.string() + ": is a directory, not a file");
  write_text(path("big.json"), std::string(2000, ' '));
  EXPECT_THAT(error_of([&] { read_regular_file(path("big.json"), 1000); }), HasSubstr("big.json: 2000 bytes, more than such a file holds"));
}

TEST(NotTextReason, NamesTheFirstByteThatIsNotText) {
  EXPECT_EQ(not_text_reason("plain text, é and 日本"), "");
  EXPECT_EQ(not_text_reason(std::string("ab\0c", 4)), "a NUL byte at offset 2");
  EXPECT_EQ(not_text_reason("ok \xff"), "byte 0xff at offset 3 is not UTF-8");
  EXPECT_EQ(not_text_reason("\xc3("), "byte 0x28 at offset 1 is not UTF-8");
  EXPECT_EQ(not_text_reason("\xed\xa0\x80"), "byte 0xa0 at offset 1 is not UTF-8");  // a surrogate
  EXPECT_EQ(not_text_reason(std::string(1023, 'a') + "\xe6\x97"), "") << "a character cut by the sniffed kilobyte is not an error";
  EXPECT_EQ(not_text_reason(std::string(2000, 'a') + std::string(1, '\0')), "") << "only the first kilobyte is sniffed";
}

}  // namespace
}  // namespace longrope::formats
