// A text file to the token ids of a byte-level BPE tokenizer, written as little-endian uint32: the
// job behind `longrope tokenize`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace longrope {

struct TokenizeReport {
  int64_t tokens = 0;           // written, BOS included
  int64_t bytes = 0;            // of the input text
  int64_t vocab_size = 0;
  double load_seconds = 0;      // tokenizer and text
  double encode_seconds = 0;
  std::optional<int32_t> model_bos;  // the BOS the model itself prepends, when it does
  int64_t dropped_bytes = 0;    // bytes without a token, dropped as transformers drops them
  int64_t first_dropped_offset = 0;
};

// Throws formats::FormatError or std::runtime_error naming the file: a tokenizer that would drop
// bytes, an input that is not a readable regular file or not UTF-8, add_bos without a BOS token.
// `output` is written atomically, and only after everything else succeeded.
TokenizeReport tokenize_file(const std::string& tokenizer, const std::string& input, const std::string& output, bool add_bos);

}  // namespace longrope
