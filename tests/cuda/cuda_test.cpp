// On a GPU the tool computes what it computes on the CPU: logits in f32 (and bf16 within its
// rounding), the shipped model's perplexity, batched candidates, RoPE tables, a search on cuda:0;
// and a window too long for the device fails in one line. Without a CUDA device every test skips,
// saying so (ctest -L cuda; scripts/gpu-check.sh runs them on a lent GPU).
#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "eval/open_evaluation.h"
#include "eval/perplexity.h"
#include "search/perplexity_scorer.h"
#include "search/search_run.h"
#include "tests/test_models.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// LONGROPE_TEST_DEVICE=cpu rehearses these tests on the CPU (scripts/gpu-check.sh --cpu-rehearsal):
// every path runs, against itself.
const bool kRehearsal = std::getenv("LONGROPE_TEST_DEVICE") && std::string(std::getenv("LONGROPE_TEST_DEVICE")) == "cpu";
const c10::Device kGpu(kRehearsal ? "cpu" : "cuda:0");
const char* kGpuName = kRehearsal ? "cpu" : "cuda:0";

#define REQUIRE_CUDA()                   \
  if (!kRehearsal && !at::hasCUDA())     \
  GTEST_SKIP() << "SKIP: no CUDA device (this build or this machine); scripts/gpu-check.sh runs these on a GPU"
const std::string kShipped = std::string(LONGROPE_SOURCE_DIR) + "/models/shipped/books-bytes-3m";

Document text_document(int64_t bytes) {  // English prose the repository carries: its README, repeated
  std::ifstream in(std::string(LONGROPE_SOURCE_DIR) + "/README.md", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Document d{"README.md", {}};
  while (static_cast<int64_t>(d.tokens.size()) < bytes)
    for (unsigned char c : text) d.tokens.push_back(c);
  d.tokens.resize(static_cast<size_t>(bytes));
  return d;
}

// The same weights, converted for another device and dtype.
LlamaWeights converted(const LlamaConfig& c, LlamaWeights w, const LoadOptions& o) {
  for_each_weight(c, w, [&](const std::string&, at::Tensor& slot, const std::vector<int64_t>&, bool) {
    if (slot.defined()) slot = slot.to(o.device, o.dtype);
  });
  if (c.tie_word_embeddings) w.lm_head = w.embed;
  return w;
}

at::Tensor logits_on(const LlamaModel& m, const at::Tensor& tokens) {
  const RopeTable rope = build_rope_table(m.rope_geometry(), rope_yarn(m.rope_geometry(), 4.0), tokens.size(1), m.device(), m.dtype());
  c10::InferenceMode guard;
  return m.logits(m.hidden_states(tokens.to(m.device()), rope)).to(at::kCPU, at::kFloat);
}

TEST(Cuda, LogitsMatchTheCpuInF32AndBf16) {
  REQUIRE_CUDA();
  const LlamaConfig c = tiny_config();
  const LlamaWeights w = random_llama_weights(c, 21, LoadOptions{});
  const at::Tensor tokens = at::randint(0, 256, {2, 200}, at::kLong);  // past L = 64: the YaRN table matters
  ModelOptions cpu, gpu, gpu_bf16;
  gpu.load.device = gpu_bf16.load.device = kGpu;
  gpu_bf16.load.dtype = at::kBFloat16;
  const at::Tensor reference = logits_on(LlamaModel(c, w, cpu), tokens);
  const at::Tensor f32 = logits_on(LlamaModel(c, converted(c, w, gpu.load), gpu), tokens);
  const at::Tensor bf16 = logits_on(LlamaModel(c, converted(c, w, gpu_bf16.load), gpu_bf16), tokens);
  // f32: the same sums in another order (no TF32: LibTorch leaves it off for matmul).
  EXPECT_LT((f32 - reference).abs().max().item<double>(), 1e-4 * (1.0 + reference.abs().max().item<double>()));
  // bf16 keeps 8 bits of mantissa: logits within a few percent of their spread.
  EXPECT_LT((bf16 - reference).abs().max().item<double>(), 0.05 * (reference.max() - reference.min()).item<double>());
}

TEST(Cuda, ShippedModelPerplexityMatchesTheCpu) {
  REQUIRE_CUDA();
  const std::vector<Document> docs = {text_document(4096)};
  double ppl[2];
  int i = 0;
  for (const char* device : {"cpu", kGpuName}) {
    RuntimeArgs runtime;
    runtime.device = device;
    DataArgs data;
    const EvaluationSetup setup = open_evaluation(ModelArgs{kShipped}, data, runtime);
    PerplexityEvaluator evaluator(setup.model(), setup.perplexity_options(2048));
    ppl[i++] = evaluator.evaluate(docs, rope_yarn(setup.config().rope_geometry(), 8.0)).ppl;
  }
  EXPECT_NEAR(ppl[1], ppl[0], 1e-4 * ppl[0]) << "cpu " << ppl[0] << ", cuda " << ppl[1];
}

TEST(Cuda, BatchedCandidatesEqualSeparateOnes) {
  REQUIRE_CUDA();
  ModelOptions gpu;
  gpu.load.device = kGpu;
  const LlamaConfig c = tiny_config();
  const LlamaModel model(c, random_llama_weights(c, 11, gpu.load), gpu);
  PerplexityEvaluator evaluator(model, PerplexityOptions{96, std::nullopt, 32, 1});
  const std::vector<Document> docs = {text_document(120)};
  const SearchSpace space = SearchSpace::for_scale(4, 2.0, LambdaBound::Paper);
  const ScorerSettings settings{model.rope_geometry(), 2.0, std::nullopt, {}, std::nullopt};
  const std::vector<Genome> group = {genome_from_lambda(space, {1.0, 1.0, 1.0, 1.0}), genome_from_lambda(space, {1.0, 1.3, 1.8, 2.0}, 8),
                                     genome_from_lambda(space, {2.0, 2.0, 2.5, 2.5})};
  GroupScorer scorer = make_perplexity_scorer(evaluator, docs, space, settings);
  const std::vector<Evaluation> together = scorer(group, Cutoff{});
  for (size_t i = 0; i < group.size(); ++i) {
    const std::vector<Evaluation> alone = scorer({group[i]}, Cutoff{});
    EXPECT_NEAR(together[i].score, alone[0].score, 1e-5 * alone[0].score) << "candidate " << i;
  }
}

TEST(Cuda, RopeTablesOnTheDeviceAreTheCpuTables) {
  REQUIRE_CUDA();
  const RopeGeometry g{64, 10000.0, 256};
  const RopeScaling s = rope_longrope(g, std::vector<double>(32, 3.0), 8, 8.0);
  const RopeTable cpu = build_rope_table(g, s, 4096, c10::Device(c10::kCPU), at::kFloat);
  const RopeTable gpu = build_rope_table(g, s, 4096, kGpu, at::kFloat);
  EXPECT_EQ(gpu.cos.device(), kGpu);
  EXPECT_TRUE(at::equal(gpu.cos.cpu(), cpu.cos));
  EXPECT_TRUE(at::equal(gpu.sin.cpu(), cpu.sin));
}

// A search with its evaluator on cuda:0 scores every candidate as the CPU does.
TEST(Cuda, SearchOnTheGpuScoresAsTheCpu) {
  REQUIRE_CUDA();
  const fs::path dir = fresh_temp_dir("cuda-search");
  const Document text = text_document(3000);
  std::ofstream(dir / "doc.txt") << std::string(text.tokens.begin(), text.tokens.end());
  std::vector<FactorTable> tables[2];
  int i = 0;
  for (const char* device : {"cpu", kGpuName}) {
    RuntimeArgs runtime;
    DataArgs data;
    data.path = (dir / "doc.txt").string();
    data.docs = 1;
    const EvaluationSetup setup = open_evaluation(ModelArgs{kShipped}, data, runtime);
    SearchRequest r;
    r.out = (dir / (std::string(device) + std::to_string(i))).string();
    r.targets = {"8x"};
    r.evolution = SearchSettings{6, 2, 3, 3, 4, 42};
    r.devices = {device};
    tables[i++] = run_search(setup, r);
  }
  const double cpu = tables[0][0].details["search_ppl"].get<double>(), gpu = tables[1][0].details["search_ppl"].get<double>();
  EXPECT_NEAR(gpu, cpu, 1e-4 * cpu);
  for (const std::string& m : {"none", "pi", "ntk", "yarn"})
    EXPECT_NEAR(tables[1][0].details["search_baselines_ppl"][m].get<double>(), tables[0][0].details["search_baselines_ppl"][m].get<double>(),
                1e-4 * tables[0][0].details["search_baselines_ppl"][m].get<double>())
        << m;
  fs::remove_all(dir);
}

// 16M tokens of a 4096-wide model: ~256 GB of activations, more than any GPU holds.
TEST(Cuda, AWindowTooLongForTheDeviceFailsInOneLine) {
  REQUIRE_CUDA();
  if (kRehearsal) GTEST_SKIP() << "SKIP: on the CPU the kernel's OOM killer, not an allocator error, would answer";
  LlamaConfig c = tiny_config();
  c.hidden_size = 4096;
  c.num_attention_heads = 32;
  c.num_key_value_heads = 32;
  c.head_dim = 128;
  c.intermediate_size = 256;
  c.num_hidden_layers = 1;
  ModelOptions gpu;
  gpu.load.device = kGpu;
  gpu.load.dtype = at::kBFloat16;
  const LlamaModel model(c, random_llama_weights(c, 3, gpu.load), gpu);
  const int64_t length = int64_t{1} << 24;
  PerplexityEvaluator evaluator(model, PerplexityOptions{length, std::nullopt, 2048, 1});
  const std::vector<Document> docs = {Document{"long", std::vector<int32_t>(static_cast<size_t>(length), 7)}};
  try {
    evaluator.evaluate(docs, rope_none(model.rope_geometry()));
    FAIL() << "16M tokens fit";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr("a window of 16777216 tokens × 1 rows does not fit in the memory of cuda:0"));
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace longrope
