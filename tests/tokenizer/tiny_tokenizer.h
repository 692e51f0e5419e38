// The tiny byte-level BPE tokenizer of the tokenizer tests (22 ids, GPT-2 style), shared with the
// fuzz targets that start from it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace longrope {

using nlohmann::json;

// ids 0..21; "Ġ" is the byte-level space, "Ã©" the two bytes of "é".
inline json tiny_vocab() {
  return {{"h", 0},
          {"e", 1},
          {"l", 2},
          {"o", 3},
          {"\u0120", 4},
          {"w", 5},
          {"r", 6},
          {"d", 7},
          {"he", 8},
          {"ll", 9},
          {"llo", 10},
          {"hello", 11},
          {"\u0120w", 12},
          {"or", 13},
          {"\u0120wor", 14},
          {"2", 15},
          {"0", 16},
          {"20", 17},
          {"\u00C3", 18},
          {"\u00A9", 19},
          {"<|endoftext|>", 20},
          {"\u00C3\u00A9", 21}};
}

// In rank order: "l l" goes before "h e", so "hello" merges ll first.
inline json tiny_merges() {
  return json::array({"l l", "h e", "ll o", "he llo", "\u0120 w", "o r", "\u0120w or", "2 0", "\u00C3 \u00A9"});
}

inline json byte_level(bool use_regex = true, bool add_prefix_space = false) {
  return {
      {"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

inline json added(const std::string& content, int id, bool special = true) {
  return {{"id", id},        {"content", content},     {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", !special}, {"special", special}};
}

// A GPT-2 style tokenizer.json (ByteLevel with its regex) over the tiny vocabulary.
inline json tiny_tokenizer_json() {
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", json::array({added("<|endoftext|>", 20)})},
          {"normalizer", nullptr},
          {"pre_tokenizer", byte_level()},
          {"post_processor", byte_level()},
          {"decoder", byte_level()},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"ignore_merges", false},
            {"vocab", tiny_vocab()},
            {"merges", tiny_merges()}}}};
}

}  // namespace longrope
