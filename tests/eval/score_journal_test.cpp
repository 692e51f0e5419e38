// The journal of scored windows: scores come back exactly, a torn last line is dropped, and it
// refuses what would mix or lose scores, one writer at a time. (That a resumed comparison equals an
// uninterrupted one is in method_comparison_test.cpp.)
#include "eval/score_journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "formats/file_write.h"
#include "tests/test_files.h"


namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

ScoreJob test_job() {
  ScoreJob job;
  job.command = "eval";
  job.model = "model-digest";
  job.documents = "documents-digest";
  job.dtype = "f32";
  job.device = "cpu";
  job.attention = "auto";
  job.loss_chunk = 2048;
  job.libtorch = "2.x";
  return job;
}
const ScoreJob kJob = test_job();

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("longrope-score-journal-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string open_error(const fs::path& path, const ScoreJob& job, bool resume) {
  try {
    ScoreJournal journal(path.string(), job, resume);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

std::string error_of_record(ScoreJournal& journal) {
  try {
    journal.record("k2", {{"doc", 2.0, 10}, 0.1});
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST(ScoreJournal, ScoresComeBackOnResumeExactly) {
  const fs::path dir = temp_dir();
  const fs::path path = dir / "eval.json.journal";
  const JournalScore a{{"doc-a", 2.0 / 3.0, 511}, 0.25}, b{{"doc-b", 1e-17, 7}, 1.5};
  const JournalScore overflow{{"doc-c", std::numeric_limits<double>::infinity(), 7}, 1.0};
  {
    ScoreJournal journal(path.string(), kJob, false);
    journal.record("k1", a);
    journal.record("k2", b);
    journal.record("k3", overflow);
  }
  ScoreJournal resumed(path.string(), kJob, true);
  ASSERT_EQ(resumed.size(), 3u);
  const JournalScore got = *resumed.find("k1");
  EXPECT_EQ(got.score.name, "doc-a");
  EXPECT_EQ(got.score.mean_nll, a.score.mean_nll);  // bit for bit: a resumed job prints the same numbers
  EXPECT_EQ(got.score.predictions, 511);
  EXPECT_EQ(got.seconds, 0.25);
  EXPECT_EQ(resumed.find("k2")->score.mean_nll, 1e-17);
  EXPECT_EQ(resumed.find("k3")->score.mean_nll, std::numeric_limits<double>::infinity());  // not NaN: the same failure line
  EXPECT_FALSE(resumed.find("k4"));
  resumed.remove();
  EXPECT_FALSE(fs::exists(path));
  fs::remove_all(dir);
}

TEST(ScoreJournal, RefusesWhatWouldMixOrLoseScores) {
  const fs::path dir = temp_dir();
  const fs::path path = dir / "curve.journal";
  {
    ScoreJournal journal(path.string(), kJob, false);
    journal.record("k1", {{"doc", 1.0, 10}, 0.1});
    // One writer: a second journal on the same file (another process, or this one) is refused.
    EXPECT_THAT(open_error(path, kJob, true), HasSubstr("another longrope process is writing this score journal"));
  }
  const std::string before = text_of(path);
  // Without --resume, an unfinished job's scores are not wiped.
  EXPECT_THAT(open_error(path, kJob, false), HasSubstr(path.string() + ": holds 1 scored windows of an unfinished job: continue it "
                                                                       "with --resume"));
  ScoreJob other = kJob;
  other.dtype = "bf16";
  EXPECT_THAT(open_error(path, other, true), HasSubstr("field 'job': its 1 scored windows were computed for another job: dtype (was "
                                                       "\"f32\", now \"bf16\")"));
  // Every setting that moves a window's NLL, even in its last bits, is part of the job; another job
  // is named as such even without --resume (that advice would not help).
  other = kJob;
  other.loss_chunk = 512;
  EXPECT_THAT(open_error(path, other, false), HasSubstr("loss_chunk (was 2048, now 512)"));
  other = kJob;
  other.command = "curve";
  EXPECT_THAT(open_error(path, other, true), HasSubstr("command (was \"eval\", now \"curve\")"));
  other = kJob;
  other.random_weights_seed = 3;
  EXPECT_THAT(open_error(path, other, true), HasSubstr("random_weights_seed (was null, now 3)"));
  EXPECT_EQ(text_of(path), before);  // refused, and kept as it was
  // A line edited by hand fails its checksum.
  std::string text = before;
  ASSERT_NE(text.find("\"mean_nll\":1.0"), std::string::npos);
  text.replace(text.find("\"mean_nll\":1.0"), 14, "\"mean_nll\":0.5");
  write_text(path, text);
  EXPECT_THAT(open_error(path, kJob, true), HasSubstr(path.string() + ": line 2: field 'checksum'"));
  write_text(path, "{\"not\": \"a journal\"}\n");
  EXPECT_THAT(open_error(path, kJob, true), HasSubstr("line 1: not a longrope score journal"));
  fs::remove_all(dir);
}

TEST(ScoreJournal, ALineAKillCutShortIsDroppedAndAppendsFollowWholeLines) {
  const fs::path dir = temp_dir();
  const fs::path path = dir / "eval.json.journal";
  {
    ScoreJournal journal(path.string(), kJob, false);
    journal.record("k1", {{"doc", 1.0, 10}, 0.1});
    journal.record("k2", {{"doc", 2.0, 10}, 0.1});
  }
  const std::string whole = text_of(path);
  write_text(path, whole.substr(0, whole.size() - 9));  // the last line without its end
  {
    ScoreJournal journal(path.string(), kJob, true);
    EXPECT_EQ(journal.size(), 1u);
    EXPECT_FALSE(journal.find("k2"));
    journal.record("k2", {{"doc", 3.0, 10}, 0.1});
  }
  ScoreJournal again(path.string(), kJob, true);
  EXPECT_EQ(again.size(), 2u);
  EXPECT_EQ(again.find("k2")->score.mean_nll, 3.0);
  fs::remove_all(dir);
}

TEST(ScoreJournal, AJobThatScoredNothingLeavesNoFile) {
  const fs::path dir = temp_dir();
  const fs::path path = dir / "eval.json.journal";
  { ScoreJournal journal(path.string(), kJob, false); }
  EXPECT_FALSE(fs::exists(path));
  fs::remove_all(dir);
}

TEST(ScoreJournal, AFullDiskLeavesNoEmptyJournal) {
  const fs::path dir = temp_dir();
  const fs::path path = dir / "eval.json.journal";
  formats::fail_writes_after_for_tests(0, ENOSPC);
  const std::string error = open_error(path, kJob, false);
  formats::fail_writes_after_for_tests(0, 0);
  EXPECT_EQ(error, path.string() + ": cannot write: No space left on device");
  EXPECT_FALSE(fs::exists(path)) << "a 0-byte journal was left";
  // One that holds scores is never removed, whatever fails.
  {
    ScoreJournal journal(path.string(), kJob, false);
    journal.record("k1", {{"doc", 1.0, 10}, 0.1});
  }
  formats::fail_writes_after_for_tests(0, ENOSPC);
  ScoreJournal resumed(path.string(), kJob, true);
  EXPECT_THAT(error_of_record(resumed), HasSubstr("No space left on device"));
  formats::fail_writes_after_for_tests(0, 0);
  EXPECT_EQ(resumed.size(), 1u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longrope
