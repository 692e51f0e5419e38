// A comparison journaled window by window and killed part-way gives, resumed, every row the
// uninterrupted comparison gives, bit for bit, without scoring a journaled window again.
#include "eval/method_comparison.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "rope/rope_scaling.h"
#include "tests/test_files.h"
#include "tests/test_models.h"
#include "util/splitmix64.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string open_error(const fs::path& path, const ScoreJob& job) {
  try {
    ScoreJournal journal(path.string(), job, true);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST(MethodComparison, AResumedComparisonEqualsAnUninterruptedOne) {
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
  EXPECT_THAT(open_error(path, setup.score_job("curve", others)), HasSubstr("documents (was"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longrope
