// Tests for BpeTokenizer on small hand-made tokenizers: merges by rank, digits, added tokens,
// unicode, BOS rules, GGUF metadata, and malformed files that must fail with one line naming the
// file and field. Every expected id list was worked by hand and agrees with Hugging Face
// tokenizers 0.23 on the same tokenizer.json.
#include "tokenizer/bpe_tokenizer.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "formats/format_error.h"
#include "formats/gguf.h"
#include "tests/tokenizer/tiny_tokenizer.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Ids = std::vector<int32_t>;

// The message of a FormatError thrown by f(), checked to be one line.
template <typename F>
std::string format_error_of(F&& f) {
  try {
    f();
  } catch (const formats::FormatError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "multi-line message: " << message;
    return message;
  }
  return "<no FormatError>";
}

class BpeTokenizerFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("longrope_bpe_test_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  BpeTokenizer load(const json& j) { return BpeTokenizer::from_tokenizer_json(write("tokenizer.json", j.dump())); }
  std::string load_error(const json& j) {
    const std::string path = write("tokenizer.json", j.dump());
    return format_error_of([&] { BpeTokenizer::from_tokenizer_json(path); });
  }

  fs::path dir_;
};

TEST_F(BpeTokenizerFiles, MergesApplyInRankOrder) {
  const BpeTokenizer t = load(tiny_tokenizer_json());
  // "hello": ll (rank 0), he (1), llo (2), hello (3). " world" -> "Ġworld": Ġw, or, Ġwor; l and d stay.
  EXPECT_THAT(t.encode("hello world"), ElementsAre(11, 14, 2, 7));
  // Two "l l" pairs of equal rank: the leftmost merges first.
  EXPECT_THAT(t.encode("lll"), ElementsAre(9, 2));
  // "2020" is one GPT-2 word: both "2 0" pairs merge.
  EXPECT_THAT(t.encode("2020"), ElementsAre(17, 17));
  EXPECT_THAT(t.encode(" 2020"), ElementsAre(4, 17, 17));
  EXPECT_THAT(t.encode(""), ElementsAre());
  EXPECT_EQ(t.vocab_size(), 22);
  EXPECT_EQ(t.token(14), "\u0120wor");
}

TEST_F(BpeTokenizerFiles, IndividualDigitsSplitBeforeMerging) {
  json j = tiny_tokenizer_json();
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers", json::array({{{"type", "Digits"}, {"individual_digits", true}}, byte_level()})}};
  const BpeTokenizer t = load(j);  // SmolLM2's pre-tokenizer
  EXPECT_THAT(t.encode("2020"), ElementsAre(15, 16, 15, 16));
  EXPECT_THAT(t.encode(" 2020"), ElementsAre(4, 15, 16, 15, 16));
  EXPECT_THAT(t.encode("hello world"), ElementsAre(11, 14, 2, 7));
}

TEST_F(BpeTokenizerFiles, UnicodeLettersAreTheirUtf8Bytes) {
  const BpeTokenizer t = load(tiny_tokenizer_json());
  EXPECT_THAT(t.encode("\u00E9"), ElementsAre(21));      // é = C3 A9 -> "Ã©"
  EXPECT_THAT(t.encode("h\u00E9"), ElementsAre(0, 21));  // one word: é is a letter
  EXPECT_EQ(t.decode({0, 21}), "h\u00E9");
  // Without an unk token, characters outside the vocabulary are dropped, as tokenizers does.
  EXPECT_THAT(t.encode("hex"), ElementsAre(8));
}

TEST_F(BpeTokenizerFiles, AddedTokensAreCutOutFirst) {
  const BpeTokenizer t = load(tiny_tokenizer_json());
  EXPECT_THAT(t.encode("hello<|endoftext|>hello"), ElementsAre(11, 20, 11));
  EXPECT_THAT(t.encode("hello <|endoftext|> hello"), ElementsAre(11, 4, 20, 4, 11));
  EXPECT_EQ(t.decode({11, 20, 11}), "hello<|endoftext|>hello");

  json j = tiny_tokenizer_json();
  j["added_tokens"][0]["lstrip"] = true;
  j["added_tokens"][0]["rstrip"] = true;
  EXPECT_THAT(load(j).encode("hello <|endoftext|> hello"), ElementsAre(11, 20, 11));  // the spaces go with it
}

TEST_F(BpeTokenizerFiles, NewAddedTokensGetIdsAfterTheVocabulary) {
  json j = tiny_tokenizer_json();
  // tokenizers ignores the file's id for an added token: "wo" is new, so it gets 22 (the vocabulary
  // has 22 entries). single_word: it is not taken inside " world".
  json wo = added("wo", 99, /*special=*/false);
  wo["single_word"] = true;
  j["added_tokens"].push_back(wo);
  const BpeTokenizer t = load(j);
  EXPECT_THAT(t.encode("wo world"), ElementsAre(22, 14, 2, 7));
  EXPECT_EQ(t.token_id("wo"), 22);
  EXPECT_EQ(t.vocab_size(), 23);
}

TEST_F(BpeTokenizerFiles, IgnoreMergesKeepsWholeTokens) {
  json j = tiny_tokenizer_json();
  j["model"]["merges"] = json::array();
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", json::array({{{"type", "Split"},
                                                        {"pattern", {{"Regex", std::string(kLlama3Pattern)}}},
                                                        {"behavior", "Isolated"},
                                                        {"invert", false}},
                                                       byte_level(/*use_regex=*/false)})}};
  EXPECT_THAT(load(j).encode("hello"), ElementsAre(0, 1, 2, 2, 3));
  j["model"]["ignore_merges"] = true;
  EXPECT_THAT(load(j).encode("hello he"), ElementsAre(11, 4, 0, 1));  // "Ġhe" is not a token: merged as usual
}

TEST_F(BpeTokenizerFiles, StringMergesAndPairMergesAreTheSame) {
  json j = tiny_tokenizer_json();
  json pairs = json::array();
  for (const json& m : tiny_merges()) {
    const std::string s = m.get<std::string>();
    pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  j["model"]["merges"] = pairs;
  EXPECT_THAT(load(j).encode("hello world 2020"), ElementsAre(11, 14, 2, 7, 4, 17, 17));
}

TEST_F(BpeTokenizerFiles, BosComesFromTheTemplateOrTokenizerConfig) {
  json j = tiny_tokenizer_json();
  EXPECT_FALSE(load(j).add_bos());
  EXPECT_EQ(load(j).bos_id(), std::nullopt);

  j["post_processor"] = {
      {"type", "Sequence"},
      {"processors",
       json::array(
           {byte_level(),
            {{"type", "TemplateProcessing"},
             {"single", json::array({{{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}},
                                     {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
             {"pair", json::array()},
             {"special_tokens",
              {{"<|endoftext|>", {{"id", "<|endoftext|>"}, {"ids", {20}}, {"tokens", {"<|endoftext|>"}}}}}}}})}};
  const BpeTokenizer templated = load(j);
  EXPECT_TRUE(templated.add_bos());
  EXPECT_EQ(templated.bos_id(), 20);
  EXPECT_THAT(templated.encode("hello"), ElementsAre(11));  // encode never adds it itself
  // A special token named by a number (found by fuzz_tokenizer_json: it ended in an uncaught type_error).
  json numbered = j;
  numbered["post_processor"]["processors"][1]["single"][0]["SpecialToken"]["id"] = 20;
  EXPECT_THAT(load_error(numbered), HasSubstr("tokenizer.json: post_processor.processors[1].single: expected a string, got number"));

  write("tokenizer_config.json", json{{"bos_token", {{"content", "he"}}}, {"add_bos_token", false}}.dump());
  const BpeTokenizer configured = load(tiny_tokenizer_json());
  EXPECT_FALSE(configured.add_bos());
  EXPECT_EQ(configured.bos_id(), 8);
}

TEST_F(BpeTokenizerFiles, FromFileTakesJsonGgufOrADirectory) {
  write("tokenizer.json", tiny_tokenizer_json().dump());
  EXPECT_THAT(BpeTokenizer::from_file(dir_.string()).encode("hello"), ElementsAre(11));
  EXPECT_THAT(BpeTokenizer::from_file((dir_ / "tokenizer.json").string()).encode("hello"), ElementsAre(11));
}

TEST(BpeTokenizer, RoundTripsAnyText) {
  // All 256 byte characters as tokens, a few merges: any UTF-8 text decodes back to itself.
  BpeVocabulary v;
  for (int b = 0; b < 256; ++b) v.tokens.emplace_back(byte_level_encode(std::string(1, static_cast<char>(b))), b);
  v.tokens.emplace_back("th", 256);
  v.tokens.emplace_back("the", 257);
  v.tokens.emplace_back("\u0120the", 258);
  v.merges = {{"t", "h"}, {"th", "e"}, {"\u0120", "the"}};
  std::vector<PreTokenizerStep> steps;
  steps.push_back(byte_level_step(false, true));
  v.pre_tokenizer = PreTokenizer(std::move(steps));
  const BpeTokenizer t(std::move(v));
  const std::string text =
      "the cat, the hat\r\n\tZürich 中文 😀 ½ x\u00A0y  \n\n e\u0301 'S 'll ΑΒΓ\xEF\xBB\xBF\u2028end ";
  const Ids ids = t.encode(text);
  EXPECT_EQ(t.decode(ids), text);
  EXPECT_EQ(ids[0], 257);  // "the"
  EXPECT_THAT(t.encode(" the"), ElementsAre(258));
}

TEST(BpeTokenizer, InvalidUtf8AndUnknownIdsAreRefused) {
  BpeVocabulary v;
  v.tokens = {{"a", 0}};
  const BpeTokenizer t(std::move(v));
  EXPECT_THROW(t.encode("a\xFF"), std::invalid_argument);
  EXPECT_THROW(t.decode({1}), std::out_of_range);
  EXPECT_THROW(t.decode({-1}), std::out_of_range);
}

TEST(BpeTokenizer, UnknownCharactersBecomeUnkWhenThereIsOne) {
  BpeVocabulary v;
  v.tokens = {{"<unk>", 0}, {"a", 1}};
  v.unk_id = 0;
  EXPECT_THAT(BpeTokenizer(v).encode("axya"), ElementsAre(1, 0, 0, 1));
  v.fuse_unk = true;
  EXPECT_THAT(BpeTokenizer(v).encode("axya"), ElementsAre(1, 0, 1));
}

// ---- malformed tokenizer.json ------------------------------------------------------------------

TEST_F(BpeTokenizerFiles, MissingAndBrokenFilesNameTheFile) {
  const std::string missing = (dir_ / "nope.json").string();
  EXPECT_THAT(format_error_of([&] { BpeTokenizer::from_tokenizer_json(missing); }),
              HasSubstr(missing + ": cannot open"));
  const std::string broken = write("broken.json", "{\"model\": ");
  EXPECT_THAT(format_error_of([&] { BpeTokenizer::from_tokenizer_json(broken); }),
              HasSubstr(broken + ": not valid JSON"));
}

TEST_F(BpeTokenizerFiles, UnsupportedPartsAreNamed) {
  json j = tiny_tokenizer_json();
  j["normalizer"] = {{"type", "NFC"}};
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: normalizer: type 'NFC' is not supported"));

  j = tiny_tokenizer_json();
  j["model"]["type"] = "Unigram";
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: model.type: 'Unigram' is not supported"));

  j = tiny_tokenizer_json();
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", json::array({byte_level(), {{"type", "Metaspace"}, {"replacement", "_"}}})}};
  EXPECT_THAT(load_error(j),
              HasSubstr("tokenizer.json: pre_tokenizer.pretokenizers[1]: type 'Metaspace' is not supported"));

  j = tiny_tokenizer_json();
  j["pre_tokenizer"] = {{"type", "Digits"}, {"individual_digits", true}};
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: pre_tokenizer: no ByteLevel step"));

  j = tiny_tokenizer_json();
  j["decoder"] = {{"type", "WordPiece"}};
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: decoder: type 'WordPiece' is not supported"));

  j = tiny_tokenizer_json();
  j["model"]["dropout"] = 0.1;
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: model.dropout: 0.1 is not supported"));

  j = tiny_tokenizer_json();
  j["post_processor"] = {{"type", "RobertaProcessing"}};
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: post_processor: type 'RobertaProcessing' is not supported"));
}

TEST_F(BpeTokenizerFiles, InconsistentContentIsNamed) {
  json j = tiny_tokenizer_json();
  j.erase("model");
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: model: missing"));

  j = tiny_tokenizer_json();
  j["model"]["merges"].push_back("x y");
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: model.merges: merge 9 ('x y'): 'x' is not in the vocabulary"));

  j = tiny_tokenizer_json();
  j["model"]["merges"].push_back("h o");  // "ho" is no token
  EXPECT_THAT(load_error(j), HasSubstr("merge 9 ('h o'): 'ho' is not in the vocabulary"));

  j = tiny_tokenizer_json();
  j["model"]["merges"].push_back("a b c");
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: model.merges[9]: 'a b c' is not two tokens"));

  j = tiny_tokenizer_json();
  j["model"]["vocab"]["x"] = 3;  // "o" has 3 already
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: model.vocab: id 3 is both"));

  j = tiny_tokenizer_json();
  j["model"]["vocab"]["x"] = -4;
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: model.vocab['x']: expected an id"));

  // One far id would allocate its whole range (10^8 ids: 3.5 GB from a file of a few hundred bytes).
  const size_t tokens = tiny_tokenizer_json()["model"]["vocab"].size() + 1 + tiny_tokenizer_json()["added_tokens"].size();
  for (const int64_t far : {int64_t{100000000}, int64_t{1000000000}}) {
    j = tiny_tokenizer_json();
    j["model"]["vocab"]["x"] = far;
    EXPECT_THAT(load_error(j), HasSubstr(fmt::format("tokenizer.json: model.vocab: id {} is beyond what a vocabulary of {} tokens numbers "
                                                     "(ids below {}, at most 2^24)", far, tokens, 2 * tokens + 256)));
  }

  j = tiny_tokenizer_json();
  j["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "(ab"}}}, {"behavior", "Isolated"}, {"invert", false}};
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: pre_tokenizer.pattern: regex '(ab'"));

  j = tiny_tokenizer_json();
  j["pre_tokenizer"]["use_regex"] = "yes";
  EXPECT_THAT(load_error(j), HasSubstr("tokenizer.json: pre_tokenizer.use_regex: expected true or false"));
}

// ---- GGUF metadata -----------------------------------------------------------------------------

// The tiny vocabulary as tokenizer.ggml.* keys (token 20 a control token).
std::vector<formats::GgufKv> tiny_gguf_kvs(const std::string& pre) {
  using formats::GgufValue;
  std::vector<std::string> tokens(22);
  const json vocab = tiny_vocab();
  for (const auto& [token, id] : vocab.items()) tokens[id.get<int>()] = token;
  std::vector<std::string> merges;
  for (const json& m : tiny_merges()) merges.push_back(m.get<std::string>());
  std::vector<GgufValue> types(22, GgufValue::i32(1));
  types[20] = GgufValue::i32(3);
  std::vector<formats::GgufKv> kvs = {
      {"tokenizer.ggml.model", GgufValue::string("gpt2"), {}},
      {"tokenizer.ggml.tokens", GgufValue::string_array(tokens), {}},
      {"tokenizer.ggml.token_type", GgufValue::array(formats::GgufType::INT32, types), {}},
      {"tokenizer.ggml.merges", GgufValue::string_array(merges), {}},
      {"tokenizer.ggml.bos_token_id", GgufValue::u32(20), {}},
  };
  if (!pre.empty()) kvs.push_back({"tokenizer.ggml.pre", GgufValue::string(pre), {}});
  return kvs;
}

TEST_F(BpeTokenizerFiles, GgufPreNamesSelectThePreTokenizer) {
  const std::string gpt2 = (dir_ / "gpt2.gguf").string();
  formats::write_gguf(gpt2, tiny_gguf_kvs("gpt-2"), {});
  const BpeTokenizer a = BpeTokenizer::from_file(gpt2);
  EXPECT_THAT(a.encode("hello 2020<|endoftext|>"), ElementsAre(11, 4, 17, 17, 20));
  EXPECT_EQ(a.bos_id(), 20);
  EXPECT_FALSE(a.add_bos());

  const std::string smollm = (dir_ / "smollm.gguf").string();
  formats::write_gguf(smollm, tiny_gguf_kvs("smollm"), {});
  EXPECT_THAT(BpeTokenizer::from_file(smollm).encode("hello 2020"), ElementsAre(11, 4, 15, 16, 15, 16));

  // llama-bpe: the Llama 3 split, ignore_merges, and BOS added unless the file says otherwise.
  const std::string llama = (dir_ / "llama.gguf").string();
  formats::write_gguf(llama, tiny_gguf_kvs("llama-bpe"), {});
  const BpeTokenizer l = BpeTokenizer::from_file(llama);
  EXPECT_THAT(l.encode("hello 2020"), ElementsAre(11, 4, 17, 15, 16));  // digits go in threes: 202, 0
  EXPECT_TRUE(l.add_bos());
  auto kvs = tiny_gguf_kvs("llama-bpe");
  kvs.push_back({"tokenizer.ggml.add_bos_token", formats::GgufValue::boolean(false), {}});
  formats::write_gguf(llama, kvs, {});
  EXPECT_FALSE(BpeTokenizer::from_file(llama).add_bos());
}

TEST_F(BpeTokenizerFiles, GgufProblemsNameTheKey) {
  const std::string path = (dir_ / "bad.gguf").string();
  formats::write_gguf(path, tiny_gguf_kvs("qwen-unknown"), {});
  EXPECT_THAT(format_error_of([&] { BpeTokenizer::from_file(path); }),
              HasSubstr(path + ": key 'tokenizer.ggml.pre': 'qwen-unknown' is not supported"));

  auto kvs = tiny_gguf_kvs("gpt-2");
  kvs[0].value = formats::GgufValue::string("llama");
  formats::write_gguf(path, kvs, {});
  EXPECT_THAT(format_error_of([&] { BpeTokenizer::from_file(path); }),
              HasSubstr(path + ": key 'tokenizer.ggml.model': 'llama' is not supported"));

  kvs = tiny_gguf_kvs("gpt-2");
  kvs[3].value = formats::GgufValue::string_array({"l l", "q r"});
  formats::write_gguf(path, kvs, {});
  EXPECT_THAT(format_error_of([&] { BpeTokenizer::from_file(path); }),
              HasSubstr(path + ": key 'tokenizer.ggml.merges': merge 1 ('q r'): 'q' is not in the vocabulary"));

  kvs = tiny_gguf_kvs("gpt-2");
  kvs.erase(kvs.begin() + 3);  // no merges
  formats::write_gguf(path, kvs, {});
  EXPECT_THAT(format_error_of([&] { BpeTokenizer::from_file(path); }), HasSubstr("tokenizer.ggml.merges"));
}

}  // namespace
}  // namespace longrope
