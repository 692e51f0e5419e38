// The search run as a library call: targets, resume rules, baselines saved per method, refusals that
// write nothing, and one writer per run directory.
#include "search/search_run.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>

#include "formats/directory_lock.h"
#include "formats/json_file.h"
#include "tables/factor_table.h"
#include "tests/test_files.h"
#include "tests/test_models.h"
#include "util/errors.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

struct SearchRunFixture : ::testing::Test {
  fs::path dir = fresh_temp_dir("search-run");
  std::optional<EvaluationSetup> setup;

  void SetUp() override {
    LlamaConfig c = tiny_config();  // L = 64
    save_llama_checkpoint((dir / "model").string(), c, random_llama_weights(c, 5, {}));
    fs::create_directories(dir / "data");
    at::Generator g = at::detail::createCPUGenerator(3);
    const at::Tensor bytes = at::randint(32, 127, {2000}, g, at::kInt);  // printable: documents are text
    std::ofstream text(dir / "data" / "doc.txt", std::ios::binary);
    for (int64_t i = 0; i < bytes.numel(); ++i) text.put(static_cast<char>(bytes[i].item<int>()));
    text.close();
    DataArgs data;
    data.path = (dir / "data").string();
    data.docs = 1;
    RuntimeArgs runtime;
    runtime.threads = 1;
    setup.emplace(open_evaluation(ModelArgs{(dir / "model").string()}, data, runtime));
  }
  void TearDown() override { fs::remove_all(dir); }

  SearchRequest request(const std::string& out, int generations = 1) const {
    SearchRequest r;
    r.out = (dir / out).string();
    r.targets = {"2x"};
    r.evolution = SearchSettings{4, generations, 2, 2, 2, 42};
    return r;
  }
  std::string message(const SearchRequest& r) const {
    try {
      run_search(*setup, r);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST(SearchTarget, RatiosAndLengths) {
  EXPECT_EQ(parse_search_target("8x", 256).length, 2048);
  EXPECT_EQ(parse_search_target("8x", 256).name, "8x-2048");
  EXPECT_EQ(parse_search_target("2.5x", 256).length, 640);
  // 3.3 × 64 is 211.2 tokens: refused, not rounded to 211
  EXPECT_THAT([] { parse_search_target("3.3x", 64); }, ::testing::ThrowsMessage<InvalidSetting>(HasSubstr("not a whole number")));
  EXPECT_EQ(parse_search_target("32k", 256).length, 32768);
  EXPECT_EQ(parse_search_target("32k", 256).name, "128x-32768");
  EXPECT_THAT([] { parse_search_target("abcx", 256); }, ::testing::ThrowsMessage<InvalidSetting>(HasSubstr("'abcx' is not a ratio")));
  EXPECT_THAT([] { parse_search_target("4q", 256); }, ::testing::ThrowsMessage<InvalidSetting>(HasSubstr("'4q' is not a ratio")));
  EXPECT_THAT([] { parse_search_target("256", 256); }, ::testing::ThrowsMessage<InvalidSetting>(HasSubstr("not beyond the original length")));
}

TEST_F(SearchRunFixture, ResumingAFinishedRunGivesItsTable) {
  const std::vector<FactorTable> first = run_search(*setup, request("run"));
  ASSERT_EQ(first.size(), 1u);
  const fs::path table = dir / "run" / "2x-128" / "table.json";
  const std::string saved = text_of(table);
  SearchRequest resume = request("run");
  resume.resume = true;
  const std::vector<FactorTable> again = run_search(*setup, resume);
  EXPECT_EQ(again[0].lambda, first[0].lambda);
  EXPECT_EQ(text_of(table), saved) << "a finished target was searched again";
  EXPECT_THAT(message(request("run")), HasSubstr("is not empty"));  // a second run without resume
  SearchRequest other_seed = resume;
  other_seed.evolution.seed = 7;
  EXPECT_THAT(message(other_seed), HasSubstr("seed (was 42, now 7)"));
}

// An extended search (T = 1, then resumed with T = 2) ends with the table a run of T = 2 gives, and
// keeps the baselines it saved.
TEST_F(SearchRunFixture, ExtendingEqualsARunOfTheFullLength) {
  const std::vector<FactorTable> full = run_search(*setup, request("full", 2));
  run_search(*setup, request("short", 1));
  nlohmann::json baselines = formats::read_json_file((dir / "short" / "2x-128" / "baselines.json").string());
  baselines["ppl"]["yarn"] = 1234.5;  // planted: a resume reuses what was saved
  std::ofstream(dir / "short" / "2x-128" / "baselines.json") << baselines.dump();
  SearchRequest extend = request("short", 2);
  extend.resume = true;
  const std::vector<FactorTable> extended = run_search(*setup, extend);
  EXPECT_EQ(extended[0].lambda, full[0].lambda);
  EXPECT_EQ(extended[0].start_tokens, full[0].start_tokens);
  EXPECT_EQ(extended[0].details["search_baselines_ppl"]["yarn"], 1234.5);
  SearchRequest shorten = request("short", 1);
  shorten.resume = true;
  EXPECT_THAT(message(shorten), HasSubstr("1 is fewer than the 2 generations"));
}

// A run killed before its first checkpoint resumes from the journal alone, to the same table.
TEST_F(SearchRunFixture, JournalAloneReplaysTheRun) {
  const std::vector<FactorTable> first = run_search(*setup, request("run", 2));
  fs::remove(dir / "run" / "2x-128" / "state.json");
  fs::remove(dir / "run" / "2x-128" / "table.json");
  SearchRequest resume = request("run", 2);
  resume.resume = true;
  const std::vector<FactorTable> replayed = run_search(*setup, resume);
  EXPECT_EQ(replayed[0].lambda, first[0].lambda);
  EXPECT_EQ(replayed[0].details["evaluations"], first[0].details["evaluations"]);
}

// --optimizer gradient: the seeds, then steps from the best of them whose snapshots are scored and
// reported; a resume that lost the table reuses the saved steps (the same seconds: none re-run).
TEST_F(SearchRunFixture, GradientOptimizerRunsAndResumes) {
  SearchRequest r = request("grad");
  r.optimizer = Optimizer::Gradient;
  r.gradient = GradientSettings{4, 0.05, 2};
  const std::vector<FactorTable> first = run_search(*setup, r);
  const nlohmann::json& g = first[0].details["gradient"];
  EXPECT_EQ(g["steps"], 4);
  EXPECT_EQ(g["step_nll"].size(), 4u);
  EXPECT_GE(g["snapshots"].size(), 1u);
  EXPECT_GT(g["steps_forward_equivalents"].get<double>(), 4.0) << "a step is at least a forward";
  EXPECT_GT(g["search_forward_equivalents"].get<double>(), g["steps_forward_equivalents"].get<double>());
  EXPECT_EQ(first[0].details["settings"]["generations"], 0) << "the gradient alone scores the seeds once";
  // The seeds, then the snapshots (at steps 2 and 4, one if they fell on the same grid point) and the
  // last one's 14 n̂: a candidate equal to one scored before is not scored again.
  std::set<std::string> distinct;
  for (const nlohmann::json& c : g["snapshots"]) distinct.insert(c["lambda"].dump() + c["start_tokens"].dump());
  EXPECT_GE(g["snapshots"].size(), 1 + 14u);
  EXPECT_LE(g["snapshots"].size(), 2 + 14u);
  const auto evaluations = first[0].details["evaluations"].get<int64_t>();
  EXPECT_GT(evaluations, 4 + 12);
  EXPECT_LE(evaluations, 4 + static_cast<int64_t>(distinct.size()));
  fs::remove(dir / "grad" / "2x-128" / "table.json");
  SearchRequest resume = r;
  resume.resume = true;
  const std::vector<FactorTable> again = run_search(*setup, resume);
  EXPECT_EQ(again[0].lambda, first[0].lambda);
  EXPECT_EQ(again[0].details["gradient"]["steps_seconds"], g["steps_seconds"]);
  resume.gradient.checkpoint_layers = true;  // recomputing layers changes no gradient: the run goes on
  EXPECT_EQ(run_search(*setup, resume)[0].lambda, first[0].lambda);
  resume.optimizer = Optimizer::Both;
  EXPECT_THAT(message(resume), HasSubstr("optimizer (was \"gradient\", now \"both\")"));
  const fs::path saved_steps = dir / "grad" / "2x-128" / "gradient_state.json";
  nlohmann::json edited = formats::read_json_file(saved_steps.string());
  edited["state"]["completed_steps"] = 1;  // not what the run wrote: its checksum no longer matches
  std::ofstream(saved_steps) << edited.dump();
  fs::remove(dir / "grad" / "2x-128" / "table.json");
  resume.optimizer = Optimizer::Gradient;
  EXPECT_THAT(message(resume), HasSubstr("gradient_state.json: damaged or edited"));
  EXPECT_THAT(message_of([] { parse_mode(kOptimizerNames, "adam", "optimizer"); }),
              HasSubstr("optimizer: 'adam' is not evolution, gradient or both"));
}

TEST_F(SearchRunFixture, RefusalsWriteNothing) {
  SearchRequest bad = request("bad");
  bad.step = 0;
  EXPECT_THAT(message(bad), HasSubstr("step: must be a positive number"));
  EXPECT_THAT(message_of([] { parse_mode(kLambdaBoundNames, "bogus", "bound"); }), HasSubstr("bound: 'bogus' is not paper or reference"));
  bad = request("bad");
  bad.evolution.population = 3;  // fewer places than the four seed tables
  bad.evolution.parents = 2;
  bad.validate_top = 2;
  EXPECT_THAT(message(bad), HasSubstr("population: 3 cannot hold the 4 seed tables"));
  bad = request("bad");
  bad.targets = {"64"};
  EXPECT_THAT(message(bad), HasSubstr("not beyond the original length"));
  bad = request("bad");
  bad.targets = {"2x", "128"};
  EXPECT_THAT(message(bad), HasSubstr("searched twice"));
  bad = request("bad");
  bad.targets = {"64x"};  // 4096 tokens: longer than the document
  EXPECT_THAT(message(bad), HasSubstr("no document has at least 4096 tokens"));
  EXPECT_FALSE(fs::exists(dir / "bad"));
  std::ofstream(dir / "file") << "x";
  EXPECT_THAT(message(request("file")), HasSubstr("not a directory"));
}

// The winner is the best of the top K on validation windows the search never scored; the table keeps
// the search and validation scores, intervals against every baseline, and the verdict.
TEST_F(SearchRunFixture, WinnerIsChosenOnValidationWindows) {
  DataArgs data = setup->data();
  data.windows = 3;
  RuntimeArgs runtime;
  runtime.threads = 1;
  const EvaluationSetup windowed = open_evaluation(ModelArgs{(dir / "model").string()}, data, runtime);
  SearchRequest r = request("valid");
  r.validate_top = 3;
  const FactorTable t = run_search(windowed, r).front();
  const nlohmann::json& d = t.details;
  EXPECT_EQ(d["search_documents"], 3);
  EXPECT_EQ(d["validation_documents"], 8);  // at least 8 validation windows: 8 of the document's later slots
  ASSERT_EQ(d["validation_candidates"].size(), 3u);
  double best = 1e300;
  for (const auto& c : d["validation_candidates"]) best = std::min(best, c["validation_ppl"].get<double>());
  EXPECT_EQ(d["validation_ppl"].get<double>(), best);
  for (const RopeMethod method : baseline_methods()) {
    const std::string m = method_name(method);
    EXPECT_TRUE(d["validation_baselines_ppl"].contains(m)) << m;
    EXPECT_TRUE(d["validation_intervals"].contains(m)) << m;
    const auto& c = d["validation_intervals"][m];
    EXPECT_LE(c["low"].get<double>(), c["change"].get<double>());
    EXPECT_GE(c["high"].get<double>(), c["change"].get<double>());
  }
  EXPECT_EQ(d["verdict"]["set"], "validation");
  EXPECT_TRUE(d["verdict"]["recommend"] == "longrope" || d["verdict"]["recommend"] == d["verdict"]["best_baseline"]);
  EXPECT_THAT(search_summary({t}), HasSubstr("on the validation windows the searched table"));
  SearchRequest too_many = request("v2");
  too_many.validate_top = 5;
  EXPECT_THAT(message(too_many), HasSubstr("validate_top: 5 exceeds the population (4)"));
}

// The needle objective: the same search on needle documents whose answers alone are scored.
TEST_F(SearchRunFixture, NeedleObjectiveRuns) {
  SearchRequest r = request("needle");
  r.objective = Objective::Needle;
  r.targets = {"4x"};  // 256-token windows hold the needle, the question and the answer
  const FactorTable t = run_search(*setup, r).front();
  EXPECT_EQ(t.details["settings"]["objective"], "needle");
  EXPECT_TRUE(std::isfinite(t.details["search_ppl"].get<double>()));
  SearchRequest bad = request("bad-needle");
  bad.objective = Objective::Needle;  // 128 tokens: too short
  EXPECT_THAT(message(bad), HasSubstr("objective: a window of 128 tokens cannot hold a needle"));
  EXPECT_THAT(message_of([] { parse_mode(kObjectiveNames, "bleu", "objective"); }), HasSubstr("objective: 'bleu' is not ppl or needle"));
}

// --deploy: n̂ = 0, windows at every serve length (here 2L and 4L), the deployment recorded; with
// --single-table, short = long and its cost at L/2 and L against plain RoPE.
TEST_F(SearchRunFixture, DeploymentSearchScoresEveryServeLength) {
  SearchRequest r = request("deploy");
  r.targets = {"4x"};
  r.deploy = Runtime::Transformers;
  r.search_start_tokens = false;
  r.single_table = true;
  r.heldout = (dir / "data").string();
  const FactorTable t = run_search(*setup, r).front();
  EXPECT_EQ(t.start_tokens, 0);
  EXPECT_EQ(t.details["deploy"]["serve_lengths"], nlohmann::json({128, 256}));
  EXPECT_EQ(t.details["settings"]["serve_lengths"], nlohmann::json({128, 256}));
  EXPECT_EQ(t.details["search_documents"], 2) << "one window at each serve length";
  EXPECT_EQ(t.short_lambda, t.lambda);
  EXPECT_TRUE(t.details["single_table_cost_vs_none"].contains("32"));
  EXPECT_TRUE(t.details["single_table_cost_vs_none"].contains("64"));
  SearchRequest bad = request("bad-deploy");
  bad.deploy = Runtime::Transformers;
  bad.search_start_tokens = false;
  bad.targets = {"4x"};
  bad.serve_lengths = {"1x"};  // L itself: transformers runs the short factors there
  EXPECT_THAT(message(bad), HasSubstr("serve_lengths: 64 is not beyond L = 64"));
  bad.serve_lengths = {};
  bad.deploy = Runtime::VLLM;
  bad.short_table = true;
  EXPECT_THAT(message(bad), HasSubstr("vLLM applies one factor set"));
  bad.deploy.reset();
  bad.short_table = false;
  bad.single_table = true;
  EXPECT_THAT(message(bad), HasSubstr("they need --deploy"));
  EXPECT_FALSE(fs::exists(dir / "bad-deploy"));
}

// --from config on a Phi-3 with its own longrope block: the model's scaling is a seed, a baseline
// ("config") and what the verdict is judged against; with --compose the table multiplies it and keeps
// its short factors.
TEST_F(SearchRunFixture, SearchFromTheModelsOwnScaling) {
  LlamaConfig c = tiny_config();  // head_dim 8: 4 factors
  c.model_type = "phi3";
  c.max_position_embeddings = 512;
  c.rope_scaling.type = "longrope";
  c.rope_scaling.short_factor = {1.0, 1.0, 1.05, 1.1};
  c.rope_scaling.long_factor = {1.0, 1.5, 3.0, 6.0};
  save_llama_checkpoint((dir / "phi3").string(), c, random_llama_weights(c, 7, {}));
  DataArgs data;
  data.path = (dir / "data").string();
  data.docs = 1;
  RuntimeArgs runtime;
  runtime.threads = 1;
  const EvaluationSetup phi3 = open_evaluation(ModelArgs{(dir / "phi3").string()}, data, runtime);
  SearchRequest r = request("from-config");
  r.from_config = true;
  r.compose = true;
  r.validation = ValidationChoice::parse("none");
  r.validate_top = 1;
  const FactorTable t = run_search(phi3, r).front();
  EXPECT_TRUE(t.details["search_baselines_ppl"].contains("config"));
  EXPECT_EQ(t.details["verdict"]["best_baseline"], "config");
  EXPECT_EQ(t.details["settings"]["seeds"][0], "config");
  EXPECT_EQ(t.short_lambda, c.rope_scaling.short_factor) << "the model's own short factors travel with the table";
  for (size_t i = 0; i < t.lambda.size(); ++i) EXPECT_GE(t.lambda[i], c.rope_scaling.long_factor[i] * (1 - 1e-12)) << i;
  SearchRequest bad = request("from-config-plain");
  bad.from_config = true;
  EXPECT_THAT(message(bad), HasSubstr("carries no rope scaling to start from"));
}

// An --init-table's own short factors (a table deployed with them) travel with the new table, so its
// export keeps what the runtime ran below L.
TEST_F(SearchRunFixture, AnInitTablesShortFactorsTravelWithTheTable) {
  FactorTable earlier = run_search(*setup, request("init-source")).front();
  earlier.short_lambda.assign(earlier.lambda.size(), 1.0);
  earlier.short_lambda.back() = 1.25;
  write_factor_table((dir / "earlier.json").string(), earlier);
  SearchRequest r = request("from-init");
  r.init_table = (dir / "earlier.json").string();
  r.evolution.population = 5;  // the init table joins the four seed tables
  const FactorTable t = run_search(*setup, r).front();
  EXPECT_EQ(t.short_lambda, earlier.short_lambda);
  EXPECT_EQ(t.details["settings"]["seeds"][0], "init-table");
}

TEST_F(SearchRunFixture, SecondWriterIsRefused) {
  fs::create_directories(dir / "busy");
  const formats::DirectoryLock held = formats::DirectoryLock::acquire((dir / "busy").string());
  SearchRequest r = request("busy");
  r.resume = true;
  EXPECT_THAT(message(r), HasSubstr("another longrope (pid"));
  EXPECT_TRUE(fs::is_empty(dir / "busy"));
}

}  // namespace
}  // namespace longrope
