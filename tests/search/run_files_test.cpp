// The files of a search run: the fingerprint's one comparison rule and its version-1 migration,
// checksums on what the tool wrote, the per-method perplexity file, and the run directory's lock.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "formats/directory_lock.h"
#include "formats/json_file.h"
#include "search/evaluation_journal.h"
#include "search/method_scores.h"
#include "search/run_fingerprint.h"
#include "search/search_checkpoint.h"
#include "tests/search/test_fingerprint.h"
#include "tests/test_files.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(RunFingerprint, EqualFingerprintsMayResume) {
  EXPECT_EQ(test_fingerprint().differences(test_fingerprint()), "");
}

TEST(RunFingerprint, EverySettingCounts) {
  const RunFingerprint now = test_fingerprint();
  RunFingerprint was = now;
  was.seed = 7;
  was.race_margin = 0.5;
  was.init_table = std::vector<double>{1.0, 2.0};
  const std::string diff = was.differences(now);
  EXPECT_NE(diff.find("seed (was 7, now 3)"), std::string::npos) << diff;
  EXPECT_NE(diff.find("race_margin (was 0.5, now null)"), std::string::npos) << diff;
  EXPECT_NE(diff.find("init_table (was [1.0,2.0], now null)"), std::string::npos) << diff;
}

// Issue 37: where the winner is chosen decides the table a finished run writes; a field absent from an
// earlier file is its default, so those files still resume.
TEST(RunFingerprint, ValidationObjectiveAndDeploymentCount) {
  const RunFingerprint now = test_fingerprint();
  RunFingerprint was = now;
  was.validation = "none";
  was.validate_top = 2;
  was.objective = "needle";
  was.single_table = true;
  was.sliding_window = false;
  const std::string diff = was.differences(now);
  EXPECT_NE(diff.find("validation (was \"none\", now \"auto\")"), std::string::npos) << diff;
  EXPECT_NE(diff.find("validate_top (was 2, now 4)"), std::string::npos) << diff;
  EXPECT_NE(diff.find("objective (was \"needle\", now \"ppl\")"), std::string::npos) << diff;
  EXPECT_NE(diff.find("single_table (was true, now false)"), std::string::npos) << diff;
  EXPECT_NE(diff.find("sliding_window (was false, now true)"), std::string::npos) << diff;
  EXPECT_EQ(now.to_json().count("validation"), 0u);  // defaults are not written: earlier files compare equal
  const RunFingerprint back = read_fingerprint(json::parse(was.to_json().dump()), kRunFileVersion, now, "test");
  EXPECT_EQ(back.differences(was), "");
}

TEST(RunFingerprint, DocumentsNameTheOptionsThatChooseThem) {
  const RunFingerprint now = test_fingerprint();
  RunFingerprint was = now;
  was.documents = "fedcba9876543210";
  EXPECT_NE(was.differences(now).find("--skip-tokens, --windows, --window-seed"), std::string::npos) << was.differences(now);
}

TEST(RunFingerprint, DocumentsCountByContentNotByPath) {
  const RunFingerprint now = test_fingerprint();
  RunFingerprint was = now;
  was.data = fs::absolute(now.data).string();  // the same directory named another way
  EXPECT_EQ(was.differences(now), "");
  was.documents = "fedcba9876543210";  // other tokens
  EXPECT_NE(was.differences(now).find("documents (was"), std::string::npos);
}

TEST(RunFingerprint, ModelComparesAsACanonicalPath) {
  const RunFingerprint now = test_fingerprint();
  RunFingerprint was = now;
  was.model = "./" + now.model;
  EXPECT_EQ(was.differences(now), "");
  was.model = "models/other";
  EXPECT_NE(was.differences(now).find("model (was"), std::string::npos);
}

TEST(RunFingerprint, RoundTripsThroughJson) {
  RunFingerprint f = test_fingerprint();
  f.race_margin = 0.005;
  f.init_table = std::vector<double>{1.0, 1.5};
  f.compose = true;
  const RunFingerprint back = read_fingerprint(json::parse(f.to_json().dump()), kRunFileVersion, test_fingerprint(), "test");
  EXPECT_EQ(back.differences(f), "");
}

// Version 1 files lack the documents digest and racing: they are read as this run's documents and
// racing off, and a saved generation count is ignored.
TEST(RunFingerprint, VersionOneMigrates) {
  const RunFingerprint now = test_fingerprint();
  json v1 = now.to_json();
  v1.erase("documents");
  v1.erase("race_margin");
  v1["generations"] = 10;
  EXPECT_EQ(read_fingerprint(v1, 1, now, "v1").differences(now), "");
  EXPECT_THROW(read_fingerprint(v1, 2, now, "v2"), std::runtime_error);  // version 2 must have them
  RunFingerprint racing = now;
  racing.race_margin = 0.1;
  EXPECT_NE(read_fingerprint(v1, 1, now, "v1").differences(racing).find("race_margin"), std::string::npos);
  EXPECT_THROW(read_fingerprint(v1, 3, now, "future"), std::runtime_error);
}

TEST(RunFingerprint, DocumentsDigestSeesTokensAndBos) {
  const std::vector<Document> a = {{"a.txt", {1, 2, 3}}};
  const std::vector<Document> b = {{"b.txt", {1, 2, 4}}};
  EXPECT_EQ(documents_digest(a, std::nullopt), documents_digest({{"renamed.txt", {1, 2, 3}}}, std::nullopt));
  EXPECT_NE(documents_digest(a, std::nullopt), documents_digest(b, std::nullopt));
  EXPECT_NE(documents_digest(a, std::nullopt), documents_digest(a, 1));
  EXPECT_EQ(text_checksum(""), "cbf29ce484222325");  // FNV-1a 64 offset basis
  EXPECT_EQ(text_checksum("a"), "af63dc4c8601ec8c");  // the published FNV-1a 64 of "a"
}

SearchState small_state() {
  SearchState s;
  s.completed_generations = 2;
  s.rng_state = SearchRng(5).state();
  s.evaluations = 7;
  s.forwards = 21;
  s.seconds = 1.5;
  s.population.push_back({Genome{{0, 1, 2}, 4}, 3.25, {1.1, 1.2, 1.3}, false});
  s.scores["4,0,1,2"] = 3.25;
  return s;
}

TEST(SearchState, ChecksumRefusesAHandEdit) {
  const fs::path dir = fresh_temp_dir("state-checksum");
  const std::string path = (dir / "state.json").string();
  write_search_state(path, small_state(), test_fingerprint());
  EXPECT_EQ(read_search_state(path, test_fingerprint()).completed_generations, 2);
  json j = formats::read_json_file(path);
  j["completed_generations"] = 15;  // valid, but not what the tool wrote
  std::ofstream(path) << j.dump();
  try {
    read_search_state(path, test_fingerprint());
    ADD_FAILURE() << "an edited state was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("evaluations.jsonl"), std::string::npos) << "no way out: " << e.what();
  }
  fs::remove_all(dir);
}

TEST(SearchState, TruncatedStateSaysHowToRecover) {
  const fs::path dir = fresh_temp_dir("state-truncated");
  const std::string path = (dir / "state.json").string();
  write_search_state(path, small_state(), test_fingerprint());
  fs::resize_file(path, 40);
  try {
    read_search_state(path, test_fingerprint());
    ADD_FAILURE() << "a truncated state was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("remove it and resume"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

// A version-1 state (no checksum, forwards unknown) resumes; its forwards are evaluations × docs.
TEST(SearchState, VersionOneStateResumes) {
  const fs::path dir = fresh_temp_dir("state-v1");
  const std::string path = (dir / "state.json").string();
  write_search_state(path, small_state(), test_fingerprint());
  json j = formats::read_json_file(path);
  j.erase("checksum");
  j.erase("forwards");
  j["version"] = 1;
  j["fingerprint"].erase("documents");
  std::ofstream(path) << j.dump();
  const SearchState s = read_search_state(path, test_fingerprint());
  EXPECT_EQ(s.forwards, 7 * 3);
  EXPECT_EQ(s.population.front().score, 3.25);
  fs::remove_all(dir);
}

TEST(EvaluationJournal, ChecksumRefusesAnEditedLine) {
  const fs::path dir = fresh_temp_dir("journal-checksum");
  const std::string path = (dir / "evaluations.jsonl").string();
  {
    EvaluationJournal journal(path, test_fingerprint(), false);
    journal.append("0,1,2", {4.5, 3, false, {1.0, 2.0, 3.0}});
  }
  std::ifstream in(path);
  std::string header, line;
  std::getline(in, header);
  std::getline(in, line);
  in.close();
  json entry = json::parse(line);
  entry["score"] = 1.0;
  std::ofstream(path) << header << "\n" << entry.dump() << "\n";
  try {
    EvaluationJournal reopened(path, test_fingerprint(), true);
    ADD_FAILURE() << "an edited journal line was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2: field 'checksum'"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

// A version-1 journal (lines without checksums) is read and rewritten at version 2.
TEST(EvaluationJournal, VersionOneJournalMigrates) {
  const fs::path dir = fresh_temp_dir("journal-v1");
  const std::string path = (dir / "evaluations.jsonl").string();
  json fp = test_fingerprint().to_json();
  fp.erase("documents");
  std::ofstream(path) << json{{"format", "longrope-evaluations"}, {"version", 1}, {"fingerprint", fp}}.dump() << "\n"
                      << R"({"key":"0,1","score":2.5,"forwards":3,"raced_out":false,"document_nll":[0.9,0.9,0.9]})" << "\n";
  {
    EvaluationJournal journal(path, test_fingerprint(), true);
    ASSERT_TRUE(journal.find("0,1"));
    EXPECT_EQ(journal.find("0,1")->score, 2.5);
  }
  const EvaluationJournal again(path, test_fingerprint(), true);
  EXPECT_EQ(again.size(), 1u);
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(json::parse(header).at("version"), kRunFileVersion);
  fs::remove_all(dir);
}

TEST(MethodScores, KeepsScoresForTheSameDocumentsOnly) {
  const fs::path dir = fresh_temp_dir("method-scores");
  const std::string path = (dir / "baselines.json").string();
  const json key = {{"model", "models/tiny"}, {"documents", "0123456789abcdef"}, {"target_length", 2048}, {"dtype", "f32"}};
  const json winner = {{"lambda", {1.0, 2.0}}, {"start_tokens", 0}, {"attention_factor", 1.1}};
  const auto ppl = [&](const MethodScores& s, const std::string& m) { return s.find(m) ? s.find(m)->ppl : -1.0; };
  {
    MethodScores scores(path, key, winner, {"a@0", "a@1"}, false, "test");
    scores.put("yarn", {5.5, {1.6, 1.8}});
    scores.put("longrope", {5.25, {1.6, 1.7}});
  }
  const MethodScores again(path, key, winner, {"a@0", "a@1"}, true, "test");
  EXPECT_EQ(ppl(again, "yarn"), 5.5);
  EXPECT_EQ(formats::read_json_file(path)["windows"], json({"a@0", "a@1"})) << "longrope compare groups the windows by name";
  EXPECT_EQ(again.find("yarn")->window_nll, (std::vector<double>{1.6, 1.8}));
  EXPECT_EQ(ppl(MethodScores(path, key, winner, {"a@0", "a@1"}, false, "test"), "yarn"), -1.0) << "kept without a resume";
  json same_model_other_path = key;
  same_model_other_path["model"] = "./models/tiny";
  EXPECT_EQ(ppl(MethodScores(path, same_model_other_path, winner, {"a@0", "a@1"}, true, "test"), "yarn"), 5.5);
  json other_documents = key;
  other_documents["documents"] = "fedcba9876543210";
  EXPECT_EQ(ppl(MethodScores(path, other_documents, winner, {"a@0", "a@1"}, true, "test"), "yarn"), -1.0);
  // The searched table's score belongs to its λ: another winner is scored again.
  json other_winner = winner;
  other_winner["start_tokens"] = 4;
  EXPECT_EQ(ppl(MethodScores(path, key, winner, {"a@0", "a@1"}, true, "test"), "longrope"), 5.25);
  EXPECT_EQ(ppl(MethodScores(path, key, other_winner, {"a@0", "a@1"}, true, "test"), "longrope"), -1.0);
  // A file of an older longrope (no window NLLs) is scored again: intervals need them.
  std::ofstream(path) << json{{"key", key}, {"winner", nullptr}, {"ppl", {{"yarn", 5.5}}}}.dump();
  EXPECT_EQ(ppl(MethodScores(path, key, nullptr, {"a@0", "a@1"}, true, "test"), "yarn"), -1.0);
  fs::remove_all(dir);
}

TEST(DirectoryLock, SecondWriterIsRefusedWithTheHoldersPid) {
  const fs::path dir = fresh_temp_dir("lock");
  {
    const formats::DirectoryLock first = formats::DirectoryLock::acquire(dir.string());
    // flock locks belong to the open file description: a second open in this process conflicts too.
    try {
      formats::DirectoryLock::acquire(dir.string());
      ADD_FAILURE() << "a second writer got the lock";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(fmt::format("pid {}", getpid())), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(formats::DirectoryLock::acquire(dir.string())) << "a released lock was not taken over";
  EXPECT_TRUE(fs::is_empty(dir)) << "the lock left a file behind";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longrope
