// libFuzzer: a tokenizer.json from arbitrary text. Each input loads or throws FormatError; a loaded
// tokenizer encodes a fixed sentence to ids inside its vocabulary.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "formats/format_error.h"
#include "tokenizer/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const longrope::BpeTokenizer tokenizer = longrope::BpeTokenizer::from_tokenizer_json_text(text, "fuzz.json");
    for (int32_t id : tokenizer.encode("Hello world, 2024: caf\xc3\xa9 <|endoftext|>  \n"))
      if (id < 0 || id >= tokenizer.vocab_size()) std::abort();
  } catch (const longrope::formats::FormatError&) {
  }
  return 0;
}
