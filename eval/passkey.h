// Passkey retrieval, as LongRoPE's evaluation/passkey.py poses it: a task line, filler text ("The
// grass is green. ...") around "The pass key is K. Remember it. K is the pass key." at a random depth,
// then "What is the pass key? The pass key is"; ten tokens decoded greedily (a KV cache makes each a
// one-token step); the first integer of the answer against K.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eval/method_comparison.h"
#include "eval/open_evaluation.h"

namespace longrope {

struct PasskeyPrompt {
  std::string text;
  int64_t passkey = 0;      // 1 .. 50000
  int64_t depth = 0;        // characters of filler before the information line
};

// The prompt with `filler_chars` characters of filler, split at a uniformly drawn point; the draws
// come from `rng_state` (splitmix64: the same prompts for a seed on every machine).
PasskeyPrompt passkey_prompt(int64_t filler_chars, uint64_t& rng_state);

// The first run of decimal digits in `text`, as a number (nullopt when there is none, or it has more
// than 18 digits).
std::optional<int64_t> first_integer(const std::string& text);

struct PasskeyOptions {
  std::vector<int64_t> lengths;  // prompt lengths in tokens, BOS included (each prompt fills at most this)
  int samples = 10;              // prompts per length: the same ones for every method
  uint64_t seed = 42;
  int new_tokens = 10;           // decoded greedily after the prompt

  // Throws InvalidSetting naming the first setting out of range (before any model work).
  void validate() const;
};

struct PasskeySample {
  int64_t prompt_tokens = 0;
  int64_t passkey = 0;
  int64_t depth_tokens = 0;      // tokens before the information line
  std::string answer;            // the decoded tokens
  bool correct = false;
};

struct PasskeyRow {
  int64_t length = 0;
  std::string method;
  int correct = 0;
  std::vector<PasskeySample> samples;
  double seconds = 0;
};

// Accuracy of every method at every length on the same prompts; `on_row` after each (length,
// method). The RoPE scaling of a method is taken at the prompt's length plus the decoded tokens.
std::vector<PasskeyRow> passkey_accuracy(const EvaluationSetup& setup, const std::vector<NamedScaling>& methods,
                                         const PasskeyOptions& options, const std::function<void(const PasskeyRow&)>& on_row = {});

}  // namespace longrope
