// RUN/run.json: a resume with another model (by its files' digest), another target list or another
// setting is refused before anything is written; a run directory of an earlier version, which has no
// record, still resumes, and is refused by what its own files tell.
#include "search/run_record.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "search/evolution_search.h"
#include "search/search_checkpoint.h"
#include "tests/search/test_fingerprint.h"
#include "tests/test_files.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

RunRecord test_record(std::vector<int64_t> lengths = {4096}) {
  RunRecord r;
  r.model = "/models/tiny";
  r.model_digest = "00112233aabbccdd";
  for (const int64_t length : lengths) {
    const std::string name = fmt::format("{}x-{}", length / 2048, length);
    r.targets.push_back(name);
    r.fingerprints[name] = test_fingerprint(length);
  }
  return r;
}

std::string refusal(const fs::path& dir, const RunRecord& now, bool resume = true) {
  try {
    check_and_record_run(dir, now, resume);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "accepted";
}

TEST(RunRecord, ANewRunWritesItsRecordAndTheSameRunResumes) {
  const fs::path dir = fresh_temp_dir("run-record");
  EXPECT_EQ(refusal(dir, test_record(), /*resume=*/false), "accepted");
  ASSERT_TRUE(fs::exists(dir / "run.json"));
  EXPECT_EQ(refusal(dir, test_record()), "accepted");
  fs::remove_all(dir);
}

TEST(RunRecord, AnotherModelIsRefusedByItsFilesNotItsPath) {
  const fs::path dir = fresh_temp_dir("run-record");
  check_and_record_run(dir, test_record(), false);
  RunRecord now = test_record();
  now.model_digest = "ffffffffffffffff";  // other weights at the same path
  EXPECT_THAT(refusal(dir, now), HasSubstr("run.json: the run was made with other settings: model (was /models/tiny, files digest "
                                           "00112233aabbccdd; now /models/tiny, files digest ffffffffffffffff)"));
  fs::remove_all(dir);
}

TEST(RunRecord, AnotherTargetListIsRefused) {
  const fs::path dir = fresh_temp_dir("run-record");
  check_and_record_run(dir, test_record({4096}), false);
  EXPECT_THAT(refusal(dir, test_record({4096, 8192})), HasSubstr("targets (was [\"2x-4096\"], now [\"2x-4096\",\"4x-8192\"])"));
  const std::string saved = text_of(dir / "run.json");
  EXPECT_EQ(text_of(dir / "run.json"), saved) << "a refused resume rewrote the record";
  fs::remove_all(dir);
}

TEST(RunRecord, AnotherSettingIsNamedWithBothValues) {
  const fs::path dir = fresh_temp_dir("run-record");
  check_and_record_run(dir, test_record(), false);
  RunRecord now = test_record();
  now.fingerprints.begin()->second.race_margin = 0.5;
  EXPECT_THAT(refusal(dir, now), HasSubstr("race_margin (was null, now 0.5)"));
  fs::remove_all(dir);
}

// A run directory of an earlier version: no run.json. Its targets and their state still decide.
TEST(RunRecord, AnOlderRunResumesAndGainsItsRecord) {
  const fs::path dir = fresh_temp_dir("run-record");
  const RunRecord now = test_record();
  fs::create_directories(dir / "2x-4096");
  write_search_state((dir / "2x-4096" / "state.json").string(), SearchState{}, now.fingerprints.at("2x-4096"));
  EXPECT_EQ(refusal(dir, now), "accepted");
  EXPECT_TRUE(fs::exists(dir / "run.json"));
  fs::remove_all(dir);
}

TEST(RunRecord, AnOlderRunIsRefusedByItsOwnFiles) {
  const fs::path dir = fresh_temp_dir("run-record");
  const RunRecord now = test_record();
  fs::create_directories(dir / "2x-4096");
  RunFingerprint other_model = now.fingerprints.at("2x-4096");
  other_model.model = "models/other";
  write_search_state((dir / "2x-4096" / "state.json").string(), SearchState{}, other_model);
  EXPECT_THAT(refusal(dir, now), HasSubstr("state.json: the run was made with other settings: model (was"));
  EXPECT_FALSE(fs::exists(dir / "run.json")) << "a refused resume must write no record";
  // A target of its own that this resume leaves out; and, once finished, a target it did not have.
  fs::remove_all(dir / "2x-4096");
  fs::create_directories(dir / "8x-16384");
  write_text(dir / "8x-16384" / "evaluations.jsonl", "{}\n");
  EXPECT_THAT(refusal(dir, now), HasSubstr("targets (was [\"8x-16384\"], now [\"2x-4096\"])"));
  fs::remove_all(dir / "8x-16384");
  write_text(dir / "summary.json", R"([{"scale": 4.0, "target_length": 8192, "lambda": [1.0]}])");
  EXPECT_THAT(refusal(dir, now), HasSubstr("targets (was [\"4x-8192\"], now [\"2x-4096\"])"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longrope
