// The output rule: an output never is, or reaches, an input; never lands in a directory being read;
// never replaces a device or FIFO; and is refused before any work when its directory cannot take it.
#include "formats/output_paths.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/test_files.h"
#include "util/errors.h"

namespace longrope::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Kind = WritePath::Kind;

class OutputPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir("output-paths");
    fs::create_directories(dir_ / "model");
    write_text(dir_ / "model" / "config.json", "{}");
    write_text(dir_ / "doc.txt", "text");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The message check_outputs throws, and whether it was a UsageError (exit 2).
  std::pair<std::string, bool> refusal(const std::vector<WritePath>& outputs, const std::vector<ReadPath>& inputs) const {
    try {
      check_outputs(outputs, inputs);
    } catch (const UsageError& e) {
      return {e.what(), true};
    } catch (const std::exception& e) {
      return {e.what(), false};
    }
    return {"accepted", false};
  }

  fs::path dir_;
};

TEST_F(OutputPathsTest, AFileReadIsNeverWritten) {
  const auto [message, usage] = refusal({{"--json", path("doc.txt")}}, {{"--data", path("doc.txt")}});
  EXPECT_EQ(message, "--json " + path("doc.txt") + " is the file --data reads: writing it would destroy it");
  EXPECT_TRUE(usage);
}

TEST_F(OutputPathsTest, LinksToAnInputAreTheInput) {
  fs::create_hard_link(path("doc.txt"), path("hard.txt"));
  fs::create_symlink(path("doc.txt"), path("soft.txt"));
  EXPECT_THAT(refusal({{"--out", path("hard.txt")}}, {{"--data", path("doc.txt")}}).first, HasSubstr("is the file --data reads"));
  EXPECT_THAT(refusal({{"--out", path("soft.txt")}}, {{"--data", path("doc.txt")}}).first, HasSubstr("is the file --data reads"));
}

TEST_F(OutputPathsTest, NothingIsWrittenInsideADirectoryBeingRead) {
  // curve --out MODEL/config writes MODEL/config.json; a new file there is refused as well.
  EXPECT_THAT(refusal({{"--out", path("model/config.json")}}, {{"--model", path("model")}}).first, HasSubstr("lies inside"));
  const auto [message, usage] = refusal({{"--out", path("model/new.json")}}, {{"--model", path("model")}});
  EXPECT_EQ(message, "--out " + path("model/new.json") + " lies inside " + path("model") + ", the directory --model reads: write it elsewhere");
  EXPECT_TRUE(usage);
  fs::create_symlink(path("model"), path("model-link"));
  EXPECT_THAT(refusal({{"--out", path("model-link/x.json")}}, {{"--model", path("model")}}).first, HasSubstr("lies inside"));
}

TEST_F(OutputPathsTest, ADirectoryOutputHoldsNoInput) {
  EXPECT_THAT(refusal({{"--out", dir_.string(), Kind::Directory}}, {{"--model", path("model")}}).first,
              HasSubstr("holds " + path("model") + ", which --model reads"));
  EXPECT_THAT(refusal({{"--out", path("model"), Kind::Directory}}, {{"--model", path("model")}}).first,
              HasSubstr("is the directory --model reads"));
  EXPECT_EQ(refusal({{"--out", path("run"), Kind::Directory}}, {{"--model", path("model")}}).first, "accepted");
}

TEST_F(OutputPathsTest, DevicesAndFifosAreNotFiles) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  EXPECT_EQ(refusal({{"--json", path("fifo")}}, {}).first, path("fifo") + ": is not a regular file (a FIFO) (--json writes a file)");
  EXPECT_THAT(refusal({{"--json", "/dev/null"}}, {}).first, HasSubstr("/dev/null: is not a regular file (a character device)"));
  EXPECT_THAT(refusal({{"--json", path("model")}}, {}).first, HasSubstr("model: is a directory, not a file"));
  EXPECT_THAT(refusal({{"--out", path("doc.txt"), Kind::Directory}}, {}).first, HasSubstr("doc.txt: exists and is not a directory"));
}

TEST_F(OutputPathsTest, TheDestinationMustExist) {
  EXPECT_EQ(refusal({{"--json", path("nope/a.json")}}, {}).first, path("nope/a.json") + ": directory " + path("nope") + " does not exist");
  // A directory output is created from its nearest existing ancestor.
  EXPECT_EQ(refusal({{"--out", path("a/b/c"), Kind::Directory}, {"--json", path("a/train.json")}}, {}).first,
            path("a/train.json") + ": directory " + path("a") + " does not exist");
  EXPECT_EQ(refusal({{"--out", path("a/b/c"), Kind::Directory}}, {}).first, "accepted");
  EXPECT_THAT(refusal({{"--out", path("doc.txt/sub"), Kind::Directory}}, {}).first, HasSubstr("doc.txt is not a directory"));
}

// The rule asks access(2): a directory without write permission refuses a user, and takes root's
// writes (cli_errors.sh refuses on a read-only mount, which refuses root too).
TEST_F(OutputPathsTest, AReadOnlyDirectoryIsToldBeforeAnyWork) {
  fs::create_directories(path("ro"));
  fs::permissions(path("ro"), fs::perms::owner_read | fs::perms::owner_exec);
  const bool root = ::geteuid() == 0;
  EXPECT_THAT(refusal({{"--json", path("ro/a.json")}}, {}).first,
              root ? HasSubstr("accepted") : HasSubstr("ro is not writable: Permission denied"));
  EXPECT_THAT(refusal({{"--out", path("ro"), Kind::Directory}}, {}).first,
              root ? HasSubstr("accepted") : HasSubstr("the directory is not writable: Permission denied"));
  fs::permissions(path("ro"), fs::perms::owner_all);
}

// Issue 37's sweep: a link replaced by the rename, outputs written twice or inside the directory the
// same command fills, a hard link into an input directory, a path that names no file.
TEST_F(OutputPathsTest, ASymbolicLinkIsNotReplaced) {
  fs::create_symlink(path("doc.txt"), path("to-doc.txt"));
  fs::create_symlink("/proc/self/fd/1", path("so"));
  const auto [message, usage] = refusal({{"--json", path("to-doc.txt")}}, {});
  EXPECT_EQ(message, "--json " + path("to-doc.txt") + " is a symbolic link: name the file it points to");
  EXPECT_FALSE(usage);
  EXPECT_THAT(refusal({{"--json", path("so")}}, {}).first, HasSubstr("is a symbolic link"));
  EXPECT_THAT(refusal({{"--json", "/dev/stdout"}}, {}).first, HasSubstr("is a symbolic link"));
}

TEST_F(OutputPathsTest, OutputsAreDistinctAndOutsideTheDirectoryWritten) {
  EXPECT_EQ(refusal({{"--out", path("a.svg")}, {"--out", path("./a.svg")}}, {}),
            std::make_pair("--out " + path("a.svg") + " and --out " + path("./a.svg") + " are the same file: give each output its own path",
                           true));
  EXPECT_THAT(refusal({{"--out", path("tr"), Kind::Directory}, {"--json", path("tr/model.safetensors")}}, {}).first,
              HasSubstr("lies inside " + path("tr") + ", the directory --out writes"));
  EXPECT_THAT(refusal({{"--out", path("tr"), Kind::Directory}, {"--json", path("tr")}}, {}).first, HasSubstr("are the same file"));
  fs::create_hard_link(path("doc.txt"), path("twin.txt"));
  EXPECT_THAT(refusal({{"--out", path("doc.txt")}, {"--json", path("twin.txt")}}, {}).first, HasSubstr("are the same file"));
}

TEST_F(OutputPathsTest, AHardLinkIntoAnInputDirectoryIsThatInput) {
  fs::create_hard_link(path("model/config.json"), path("cfg.json"));
  const auto [message, usage] = refusal({{"--json", path("cfg.json")}}, {{"--model", path("model")}});
  EXPECT_EQ(message, "--json " + path("cfg.json") + " is " + path("model") + "/config.json (a hard link to it), inside the directory --model "
                     "reads: writing it would destroy it");
  EXPECT_TRUE(usage);
}

TEST_F(OutputPathsTest, AFileOutputNamesAFile) {
  fs::create_directories(path("sub"));
  EXPECT_EQ(refusal({{"--out", path("sub") + "/"}}, {}),
            std::make_pair("--out " + path("sub") + "/: names a directory, not a file: give a file name", true));
  EXPECT_THAT(refusal({{"--out", path("sub/.")}}, {}).first, HasSubstr("names a directory"));
}

TEST_F(OutputPathsTest, OtherFilesBesideTheInputsAreAccepted) {
  EXPECT_EQ(refusal({{"--json", path("out.json")}, {"--json", path("out.json.journal")}},
                    {{"--model", path("model")}, {"--data", path("doc.txt")}, {"--table", ""}}).first,
            "accepted");
}

}  // namespace
}  // namespace longrope::formats
