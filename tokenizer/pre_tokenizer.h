// PreTokenizer: cuts text into the words byte-level BPE merges within, step by step as Hugging Face
// tokenizers' pre-tokenizers do (Split, Digits, ByteLevel, and a Sequence of them).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/unicode_regex.h"

namespace longrope {

// What a Split keeps of each delimiter (tokenizers' SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// One step; it cuts each piece the previous step produced on its own (never across pieces).
struct PreTokenizerStep {
  enum class Kind { Split, ByteLevel };
  Kind kind = Kind::Split;
  // Split: the delimiter pattern. ByteLevel: kGpt2Pattern, or none when use_regex is false.
  std::optional<UnicodeRegex> pattern;
  SplitBehavior behavior = SplitBehavior::Isolated;  // Split only; ByteLevel isolates its words
  bool invert = false;            // Split: the pattern matches the words; the gaps are the delimiters
  bool add_prefix_space = false;  // ByteLevel: " " before each piece that does not start with one
};

PreTokenizerStep split_step(UnicodeRegex pattern, SplitBehavior behavior, bool invert = false);
// Digits: runs of numbers (Unicode category N) apart from the rest; each one alone if `individual`.
PreTokenizerStep digits_step(bool individual);
// ByteLevel: the prefix space, the GPT-2 split, then every byte replaced by its printable character.
PreTokenizerStep byte_level_step(bool add_prefix_space, bool use_regex);

// tokenizers' ByteLevel pattern (GPT-2's encoder.py plus a final \s+).
extern const char kGpt2Pattern[];
// Llama 3's Split pattern (also in tokenizer.json files of later Llama-style models).
extern const char kLlama3Pattern[];

class PreTokenizer {
 public:
  using WordSink = std::function<void(std::string_view word)>;

  PreTokenizer() = default;  // no steps: the text is one word
  explicit PreTokenizer(std::vector<PreTokenizerStep> steps) : steps_(std::move(steps)) {}

  // Calls `sink` with each non-empty word of `text` (valid UTF-8), in text order.
  void split(std::string_view text, const WordSink& sink) const { apply(0, text, sink); }

  const std::vector<PreTokenizerStep>& steps() const { return steps_; }

 private:
  void apply(size_t step, std::string_view piece, const WordSink& sink) const;

  std::vector<PreTokenizerStep> steps_;
};

// GPT-2's reversible map from bytes to printable characters (bytes_to_unicode in encoder.py):
// '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves, the other 68 bytes for U+0100 upwards.
std::string byte_level_encode(std::string_view bytes);
// The bytes behind `text`, or nullopt when a character of it is not in the map.
std::optional<std::string> byte_level_decode(std::string_view text);

}  // namespace longrope
