// libFuzzer: the byte-level BPE encoder (the tests' tiny GPT-2 style tokenizer) on arbitrary text.
// Valid UTF-8 encodes to ids inside the vocabulary and decodes back to bytes; invalid UTF-8 throws
// std::invalid_argument. (Decoded text need not re-encode to the same ids: characters outside the
// tiny vocabulary are dropped, and what was around them may merge.)
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "tests/tokenizer/tiny_tokenizer.h"
#include "tokenizer/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const longrope::BpeTokenizer tokenizer =
      longrope::BpeTokenizer::from_tokenizer_json_text(longrope::tiny_tokenizer_json().dump(), "tiny.json");
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> ids;
  try {
    ids = tokenizer.encode(text);
  } catch (const std::invalid_argument&) {
    return 0;  // not UTF-8
  }
  for (int32_t id : ids)
    if (id < 0 || id >= tokenizer.vocab_size()) std::abort();
  const std::string decoded = tokenizer.decode(ids);
  if (decoded.size() > text.size()) std::abort();  // a token's bytes all come from the text
  return 0;
}
