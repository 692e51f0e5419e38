// Passkey prompts are built as LongRoPE's evaluation/passkey.py builds them, the same for a seed, and
// answers are read by their first integer.
#include "eval/passkey.h"

#include "eval/needle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_models.h"
#include "util/errors.h"

namespace longrope {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::EndsWith;
namespace fs = std::filesystem;

TEST(Passkey, PromptHasTheReferenceShape) {
  uint64_t rng = 7;
  const PasskeyPrompt p = passkey_prompt(1000, rng);
  EXPECT_GE(p.passkey, 1);
  EXPECT_LE(p.passkey, 50000);
  EXPECT_GE(p.depth, 0);
  EXPECT_LE(p.depth, 1000);
  EXPECT_THAT(p.text, StartsWith("There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I "
                                 "will quiz you about the important information there.\nThe grass is green. The sky is blue."));
  EXPECT_THAT(p.text, EndsWith("\nWhat is the pass key? The pass key is"));
  const std::string information = "The pass key is " + std::to_string(p.passkey) + ". Remember it. " + std::to_string(p.passkey) +
                                  " is the pass key.";
  const size_t at = p.text.find("\n" + information + "\n");
  ASSERT_NE(at, std::string::npos);
  // The filler before it is `depth` characters, the filler after it the rest: 1000 in all.
  const size_t task_end = p.text.find('\n');
  EXPECT_EQ(at - task_end - 1, static_cast<size_t>(p.depth));
  const size_t after = at + information.size() + 2, question = p.text.rfind('\n');
  EXPECT_EQ(question - after, static_cast<size_t>(1000 - p.depth));
}

TEST(Passkey, ASeedGivesTheSamePrompts) {
  uint64_t a = 42, b = 42, c = 43;
  const PasskeyPrompt pa = passkey_prompt(500, a), pb = passkey_prompt(500, b), pc = passkey_prompt(500, c);
  EXPECT_EQ(pa.text, pb.text);
  EXPECT_NE(pa.text, pc.text);
  EXPECT_NE(passkey_prompt(500, a).text, pa.text);  // the state moved on: the next prompt differs
}

TEST(Passkey, AnswerIsTheFirstInteger) {
  EXPECT_EQ(first_integer(" 23423. Remember it."), 23423);
  EXPECT_EQ(first_integer("the key: 007 or 8"), 7);
  EXPECT_EQ(first_integer(" the propo"), std::nullopt);
  EXPECT_EQ(first_integer(""), std::nullopt);
  EXPECT_EQ(first_integer("1234567890123456789012"), std::nullopt);  // not a number this parses
}

// Needle documents keep the window's length, put the fact at depths spread over the windows, and
// score only the answer.
TEST(Needle, DocumentsScoreTheAnswerOnly) {
  const fs::path dir = fresh_temp_dir("needle");
  LlamaConfig c = tiny_config();
  save_llama_checkpoint((dir / "model").string(), c, random_llama_weights(c, 1, {}));
  const EvaluationSetup setup = open_evaluation(ModelArgs{(dir / "model").string()}, DataArgs{}, RuntimeArgs{});
  std::vector<Document> windows;
  for (int i = 0; i < 4; ++i) windows.push_back({"w" + std::to_string(i), std::vector<int32_t>(300, 'x')});
  const std::vector<Document> needles = needle_documents(setup, windows, 5);
  ASSERT_EQ(needles.size(), 4u);
  for (size_t i = 0; i < needles.size(); ++i) {
    const Document& d = needles[i];
    ASSERT_EQ(d.tokens.size(), 300u);
    const std::string text = setup.decode_ids(d.tokens);
    const size_t fact = text.find(" The special magic number is ");
    ASSERT_NE(fact, std::string::npos);
    const std::string number = text.substr(fact + 29, 5);
    EXPECT_THAT(text, EndsWith(" What is the special magic number? The special magic number is " + number));
    EXPECT_EQ(d.scored_tail, 6);  // " 41551": six byte tokens
    const double depth = static_cast<double>(fact) / 300.0;
    EXPECT_NEAR(depth, (i + 0.5) / 4 * (300.0 - 100) / 300.0, 0.05) << d.name;  // spread over the text before the question
  }
  EXPECT_THROW(needle_documents(setup, {{"short", std::vector<int32_t>(60, 'x')}}, 5), InvalidSetting);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longrope
