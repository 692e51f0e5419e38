// libFuzzer: a tokenizer.json's vocabulary, added tokens and merges drawn from the input, so that the
// fuzzer explores ids and merges directly instead of first finding JSON syntax: ids small, far (up to
// 2^31 − 1, beyond the size cap), negative and beyond int32; tokens repeated; merges of tokens present
// and absent. Each input loads or throws FormatError, within the size cap (run with -malloc_limit_mb);
// a loaded tokenizer encodes a fixed sentence to ids inside its vocabulary and decodes them back.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/format_error.h"
#include "tokenizer/bpe_tokenizer.h"

namespace {

using nlohmann::json;

// An id of one of the kinds a hostile file holds.
int64_t draw_id(FuzzedDataProvider& in, size_t tokens) {
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: return in.ConsumeIntegralInRange<int64_t>(0, static_cast<int64_t>(tokens) + 8);  // dense, with gaps
    case 1: return in.ConsumeIntegralInRange<int64_t>(0, INT32_MAX);                          // far
    case 2: return in.ConsumeIntegralInRange<int64_t>(INT64_MIN, -1);                         // negative
    case 3: return in.ConsumeIntegral<int64_t>();                                             // beyond int32
    default: return in.ConsumeIntegralInRange<int64_t>(0, 2 * static_cast<int64_t>(tokens) + 300);  // near the cap
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  // The 256 byte-level characters first (as every byte-level vocabulary has them), then drawn ones.
  std::vector<std::string> tokens;
  json vocab = json::object();
  const bool byte_level = in.ConsumeBool();
  if (byte_level)
    for (int b = 0; b < 256; ++b) {
      const std::string t = longrope::byte_level_encode(std::string(1, static_cast<char>(b)));
      vocab[t] = b;
      tokens.push_back(t);
    }
  const int drawn = in.ConsumeIntegralInRange<int>(0, 64);
  for (int i = 0; i < drawn; ++i) {
    const std::string t = in.ConsumeBool() && tokens.size() >= 2
                              ? tokens[in.ConsumeIntegralInRange<size_t>(0, tokens.size() - 1)] +
                                    tokens[in.ConsumeIntegralInRange<size_t>(0, tokens.size() - 1)]
                              : in.ConsumeRandomLengthString(6);
    vocab[t] = draw_id(in, tokens.size());
    tokens.push_back(t);
  }
  json merges = json::array();
  const int merge_count = tokens.empty() ? 0 : in.ConsumeIntegralInRange<int>(0, 48);
  for (int i = 0; i < merge_count; ++i) {
    const std::string left = tokens[in.ConsumeIntegralInRange<size_t>(0, tokens.size() - 1)];
    const std::string right = in.ConsumeBool() ? tokens[in.ConsumeIntegralInRange<size_t>(0, tokens.size() - 1)] : in.ConsumeRandomLengthString(4);
    if (in.ConsumeBool()) merges.push_back(json::array({left, right}));
    else merges.push_back(left + " " + right);
  }
  json added = json::array();
  const int added_count = in.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < added_count; ++i)
    added.push_back({{"id", draw_id(in, tokens.size())}, {"content", in.ConsumeRandomLengthString(12)}, {"special", in.ConsumeBool()}});
  const json byte_level_step = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  const json tokenizer = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"ignore_merges", in.ConsumeBool()}}},
                          {"added_tokens", added}, {"pre_tokenizer", byte_level_step}, {"decoder", byte_level_step}};
  try {
    // Drawn tokens may be any bytes; the file a loader sees is valid JSON (a parser rejects the rest).
    const std::string text = tokenizer.dump(-1, ' ', false, json::error_handler_t::replace);
    const longrope::BpeTokenizer t = longrope::BpeTokenizer::from_tokenizer_json_text(text, "fuzz.json");
    if (t.vocab_size() > 2 * static_cast<int64_t>(tokens.size() + added.size()) + 256) std::abort();  // the size cap held
    std::vector<int32_t> ids;
    try {
      ids = t.encode("Hello world, 2024: caf\xc3\xa9 \xe4\xb8\xad  \n");
    } catch (const std::invalid_argument&) {  // text a vocabulary without the byte alphabet cannot hold
      return 0;
    }
    for (int32_t id : ids)
      if (id < 0 || id >= t.vocab_size()) std::abort();
    (void)t.decode(ids);
  } catch (const longrope::formats::FormatError&) {
  }
  return 0;
}
