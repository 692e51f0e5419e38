// Read, encode, write.
#include "tokenizer/tokenize_file.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "formats/atomic_file.h"
#include "formats/input_file.h"
#include "tokenizer/bpe_tokenizer.h"

namespace longrope {
namespace {

std::string read_text(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": does not exist");
  return formats::read_regular_file(path, std::numeric_limits<size_t>::max());
}

std::string little_endian_u32(const std::vector<int32_t>& ids) {
  std::string bytes(ids.size() * 4, '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto v = static_cast<uint32_t>(ids[i]);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((v >> (8 * b)) & 0xFF);
  }
  return bytes;
}

}  // namespace

TokenizeReport tokenize_file(const std::string& tokenizer_path, const std::string& input, const std::string& output, bool add_bos) {
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  const auto start = Clock::now();
  const BpeTokenizer tokenizer = BpeTokenizer::from_file(tokenizer_path);
  if (add_bos && !tokenizer.bos_id()) throw std::runtime_error(tokenizer_path + ": the tokenizer defines no BOS token");
  const std::string text = read_text(input);
  const auto loaded = Clock::now();
  std::vector<int32_t> ids;
  try {
    ids = tokenizer.encode(text);  // as transformers does, dropped bytes included (reported, not refused)
  } catch (const std::invalid_argument& e) {  // not UTF-8: a data error
    throw std::runtime_error(input + ": " + e.what());
  }
  const auto encoded = Clock::now();
  if (add_bos) ids.insert(ids.begin(), *tokenizer.bos_id());
  formats::write_file_atomically(output, little_endian_u32(ids));
  TokenizeReport r;
  const DroppedBytes dropped = dropped_bytes(tokenizer, text);
  r.dropped_bytes = static_cast<int64_t>(dropped.count);
  r.first_dropped_offset = static_cast<int64_t>(dropped.first_offset);
  r.tokens = static_cast<int64_t>(ids.size());
  r.bytes = static_cast<int64_t>(text.size());
  r.vocab_size = tokenizer.vocab_size();
  r.load_seconds = seconds(start, loaded);
  r.encode_seconds = seconds(loaded, encoded);
  if (tokenizer.add_bos()) r.model_bos = tokenizer.bos_id();
  return r;
}

}  // namespace longrope
