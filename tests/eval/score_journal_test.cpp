// A journaled comparison resumed after a kill prints what an uninterrupted one prints; the journal
// refuses what would mix or lose scores, one writer at a time.
#include "eval/score_journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "eval/method_comparison.h"
#include "rope/rope_scaling.h"
#include "tests/test_models.h"
#include "util/splitmix64.h"

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

std::string text_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string open_error(const fs::path& path, const ScoreJob& job, bool resume) {
  try {
    ScoreJournal journal(path.string(), job, resume);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST(ScoreJournal, ScoresComeBackOnResumeExactly) {
  const fs::path dir = fresh_temp_dir("score-journal");
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
  const fs::path dir = fresh_temp_dir("score-journal");
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
  const fs::path dir = fresh_temp_dir("score-journal");
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
  const fs::path dir = fresh_temp_dir("score-journal");
  const fs::path path = dir / "eval.json.journal";
  { ScoreJournal journal(path.string(), kJob, false); }
  EXPECT_FALSE(fs::exists(path));
  fs::remove_all(dir);
}

// The property the journal exists for: a comparison killed part-way and resumed gives every row the
// uninterrupted comparison gives, bit for bit, without scoring a journaled window again.
TEST(ScoreJournal, AResumedComparisonEqualsAnUninterruptedOne) {
  const fs::path dir = fresh_temp_dir("score-journal");
  LlamaConfig c = tiny_config();  // L = 64
  save_llama_checkpoint((dir / "model").string(), c, random_llama_weights(c, 5, {}));
  RuntimeArgs runtime;
  runtime.threads = 1;
  const EvaluationSetup setup = open_evaluation(ModelArgs{(dir / "model").string()}, DataArgs{}, runtime);
  std::vector<Document> documents;
  uint64_t rng = 11;
  for (int d = 0; d < 3; ++d) {
    Document doc{"doc" + std::to_string(d), {}};
    for (int i = 0; i < 300; ++i) doc.tokens.push_back(static_cast<int32_t>(splitmix64(rng) % static_cast<uint64_t>(c.vocab_size)));
    documents.push_back(std::move(doc));
  }
  Comparison comparison{{128, 256}, {}, 2, "test"};  // beyond L = 64: none and yarn differ
  for (const std::string& method : {"none", "yarn"})
    comparison.methods.push_back({method, [method](const LlamaConfig& config, int64_t length) {
                                    const RopeGeometry g = config.rope_geometry();
                                    const double s = std::max(1.0, static_cast<double>(length) / config.original_max_position_embeddings);
                                    return method == "none" ? rope_none(g) : rope_yarn(g, s);
                                  }});
  const std::vector<ComparisonRow> plain = compare_scalings(setup, comparison, documents);

  const fs::path path = dir / "journal";
  {
    ScoreJournal journal(path.string(), setup.score_job("curve", documents), false);
    comparison.journal = &journal;
    compare_scalings(setup, comparison, documents);
  }
  // Keep the header and the first 5 of 12 windows: a kill inside the second row.
  std::istringstream lines(text_of(path));
  std::string line, kept;
  for (int i = 0; i < 6 && std::getline(lines, line); ++i) kept += line + "\n";
  write_text(path, kept);
  ScoreJournal journal(path.string(), setup.score_job("curve", documents), true);
  ASSERT_EQ(journal.size(), 5u);
  comparison.journal = &journal;
  const std::vector<ComparisonRow> resumed = compare_scalings(setup, comparison, documents);
  EXPECT_EQ(journal.size(), 12u);
  // Only the 7 others were scored: the file holds the header, the 5 kept lines and 7 new ones.
  std::istringstream written(text_of(path));
  int written_lines = 0;
  while (std::getline(written, line)) ++written_lines;
  EXPECT_EQ(written_lines, 13);
  ASSERT_EQ(resumed.size(), plain.size());
  for (size_t r = 0; r < plain.size(); ++r) {
    EXPECT_EQ(resumed[r].length, plain[r].length);
    EXPECT_EQ(resumed[r].method, plain[r].method);
    ASSERT_EQ(resumed[r].result.documents.size(), 3u);
    for (size_t d = 0; d < 3; ++d) {
      EXPECT_EQ(resumed[r].result.documents[d].name, plain[r].result.documents[d].name);
      EXPECT_EQ(resumed[r].result.documents[d].mean_nll, plain[r].result.documents[d].mean_nll) << r << " " << d;
    }
    EXPECT_EQ(resumed[r].result.ppl, plain[r].result.ppl);
    EXPECT_EQ(resumed[r].result.predictions, plain[r].result.predictions);
  }
  journal.remove();
  // A journal of other documents is refused before any forward.
  write_text(path, kept);
  std::vector<Document> others = documents;
  others[0].tokens[5] ^= 1;
  EXPECT_THAT(open_error(path, setup.score_job("curve", others), true), HasSubstr("documents (was"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longrope
