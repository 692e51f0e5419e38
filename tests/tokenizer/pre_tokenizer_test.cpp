// Tests for the pre-tokenizer and its regex engine. Expected splits are those of Hugging Face
// tokenizers 0.23 (pre_tokenize_str) on the same input.
#include "tokenizer/pre_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/unicode_regex.h"

namespace longrope {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> words(const PreTokenizer& p, std::string_view text) {
  std::vector<std::string> out;
  p.split(text, [&](std::string_view w) { out.emplace_back(w); });
  return out;
}

std::vector<std::string> split_words(const std::string& pattern, SplitBehavior behavior, std::string_view text,
                                     bool invert = false, bool literal = false) {
  std::vector<PreTokenizerStep> steps;
  steps.push_back(
      split_step(literal ? UnicodeRegex::literal(pattern) : UnicodeRegex::compile(pattern), behavior, invert));
  return words(PreTokenizer(std::move(steps)), text);
}

TEST(PreTokenizerSplit, EachBehaviorTreatsDelimitersAsTokenizersDoes) {
  EXPECT_THAT(split_words("-", SplitBehavior::Removed, "a-b--c", false, true), ElementsAre("a", "b", "c"));
  EXPECT_THAT(split_words("-", SplitBehavior::Isolated, "a-b--c", false, true),
              ElementsAre("a", "-", "b", "-", "-", "c"));
  EXPECT_THAT(split_words("-", SplitBehavior::MergedWithPrevious, "a-b--c", false, true),
              ElementsAre("a-", "b-", "-", "c"));
  EXPECT_THAT(split_words("-", SplitBehavior::MergedWithNext, "a-b--c", false, true),
              ElementsAre("a", "-b", "-", "-c"));
  EXPECT_THAT(split_words("-", SplitBehavior::Contiguous, "a-b--c", false, true),
              ElementsAre("a", "-", "b", "--", "c"));
}

TEST(PreTokenizerSplit, InvertMakesTheMatchesTheWords) {
  EXPECT_THAT(split_words("[a-z]+", SplitBehavior::Removed, "ab, cd!", true), ElementsAre("ab", "cd"));
  EXPECT_THAT(split_words("[a-z]+", SplitBehavior::MergedWithPrevious, "ab, cd!", true), ElementsAre("ab, ", "cd!"));
  EXPECT_THAT(split_words("[a-z]+", SplitBehavior::MergedWithNext, "ab, cd!", true), ElementsAre("ab", ", cd", "!"));
}

TEST(PreTokenizerSplit, LiteralPatternHasNoMetacharacters) {
  EXPECT_THAT(split_words("a.b", SplitBehavior::Isolated, "xa.byaxb", false, true), ElementsAre("x", "a.b", "yaxb"));
}

TEST(PreTokenizerSplit, EmptyMatchesSplitLikeOniguruma) {
  // An empty match right where the previous one ended is skipped, so "345" stays together.
  EXPECT_THAT(split_words(R"((?=\d{3}))", SplitBehavior::Isolated, "x12345y"), ElementsAre("x", "1", "2", "345y"));
}

TEST(PreTokenizerSplit, AnchorsMatchAtLineBreaks) {
  EXPECT_THAT(split_words("^a", SplitBehavior::Isolated, "a\na ba"), ElementsAre("a", "\n", "a", " ba"));
  EXPECT_THAT(split_words("b$", SplitBehavior::Isolated, "ab\nab"), ElementsAre("a", "b", "\na", "b"));
}

TEST(PreTokenizerDigits, IndividualOrRuns) {
  std::vector<PreTokenizerStep> one;
  one.push_back(digits_step(true));
  EXPECT_THAT(words(PreTokenizer(std::move(one)), "a12\u00B2\u0663x"),
              ElementsAre("a", "1", "2", "\u00B2", "\u0663", "x"));
  std::vector<PreTokenizerStep> runs;
  runs.push_back(digits_step(false));
  EXPECT_THAT(words(PreTokenizer(std::move(runs)), "ab 2024x5"), ElementsAre("ab ", "2024", "x", "5"));
}

TEST(PreTokenizerByteLevel, Gpt2RegexThenBytesAsCharacters) {
  std::vector<PreTokenizerStep> steps;
  steps.push_back(byte_level_step(false, true));
  EXPECT_THAT(words(PreTokenizer(std::move(steps)), "I'm  fine\n\nok 123!! He'LL"),
              ElementsAre("I", "'m", "\u0120", "\u0120fine", "\u010A", "\u010A", "ok",
                          "\u0120"
                          "123",
                          "!!", "\u0120He", "'", "LL"));
}

TEST(PreTokenizerByteLevel, Llama3SplitThenByteLevelWithoutRegex) {
  std::vector<PreTokenizerStep> steps;
  steps.push_back(split_step(UnicodeRegex::compile(kLlama3Pattern), SplitBehavior::Isolated));
  steps.push_back(byte_level_step(false, false));
  // Case-insensitive contractions, digits in threes, newlines kept together.
  EXPECT_THAT(words(PreTokenizer(std::move(steps)), "I'm  fine\n\nok 12345!! He'LL"),
              ElementsAre("I", "'m", "\u0120", "\u0120fine", "\u010A\u010A", "ok", "\u0120", "123", "45", "!!",
                          "\u0120He", "'LL"));
}

TEST(PreTokenizerByteLevel, PrefixSpaceGoesOnEveryPiece) {
  std::vector<PreTokenizerStep> steps;
  steps.push_back(digits_step(true));
  steps.push_back(byte_level_step(true, true));
  EXPECT_THAT(words(PreTokenizer(std::move(steps)), "a1 b"), ElementsAre("\u0120a",
                                                                         "\u0120"
                                                                         "1",
                                                                         "\u0120b"));
}

TEST(ByteLevelMap, PrintableBytesStayOthersMoveUp) {
  EXPECT_EQ(byte_level_encode("a"), "a");
  EXPECT_EQ(byte_level_encode(" "), "\u0120");  // 0x20: the 33rd unprintable byte
  EXPECT_EQ(byte_level_encode("\n"), "\u010A");
  EXPECT_EQ(byte_level_encode("\xC3\xA9"), "\u00C3\u00A9");  // é's two bytes, each as a character
  EXPECT_EQ(byte_level_encode(std::string(1, '\0')), "\u0100");
  EXPECT_EQ(byte_level_encode("\xAD"), "\u0143");  // the last of the 68 moved bytes
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_EQ(byte_level_decode(byte_level_encode(all)), all);
  EXPECT_EQ(byte_level_decode("<|x|>"), "<|x|>");
  EXPECT_EQ(byte_level_decode("a b"), std::nullopt);  // a raw space is not a byte-level character
  EXPECT_EQ(byte_level_decode("\u4E2D"), std::nullopt);
}

TEST(UnicodeRegex, PropertiesAreUnicode) {
  const UnicodeRegex letters = UnicodeRegex::compile(R"(\p{L}+)");
  const auto m = letters.find_all("1 Zürich Ελλάδα 中文");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0], std::make_pair(size_t{2}, size_t{9}));  // "Zürich": ü is two bytes
}

TEST(UnicodeRegex, BadPatternNamesItself) {
  try {
    UnicodeRegex::compile("(ab");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("regex '(ab'"));
  }
}

TEST(UnicodeRegex, LongWhitespaceRunsDoNotOverflow) {
  const UnicodeRegex gpt2 = UnicodeRegex::compile(kGpt2Pattern);
  const std::string spaces(200000, ' ');
  const auto m = gpt2.find_all(spaces + "x");
  ASSERT_EQ(m.size(), 2u);  // all but one space, then " x"
  EXPECT_EQ(m[0].second, spaces.size() - 1);
  EXPECT_EQ(m[1], std::make_pair(spaces.size() - 1, spaces.size() + 1));
}

TEST(Utf8, InvalidOffsets) {
  EXPECT_EQ(invalid_utf8_offset("plain ascii"), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_offset("é中😀"), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_offset("ab\xC3"), 2u);            // truncated
  EXPECT_EQ(invalid_utf8_offset("a\xC0\xAF"), 1u);         // overlong '/'
  EXPECT_EQ(invalid_utf8_offset("a\xED\xA0\x80"), 1u);     // surrogate U+D800
  EXPECT_EQ(invalid_utf8_offset("ab\x80"), 2u);            // stray continuation byte
  EXPECT_EQ(invalid_utf8_offset("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
}

}  // namespace
}  // namespace longrope
