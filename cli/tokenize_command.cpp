// longrope tokenize: a text file to the token ids of a model's own byte-level BPE tokenizer
// (Hugging Face tokenizer.json or GGUF metadata), written as little-endian uint32. Torch-free.
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cli/command.h"
#include "tokenizer/bpe_tokenizer.h"
#include "formats/atomic_file.h"

namespace po = boost::program_options;

namespace longrope {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": read failed");
  return text.str();
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

int tokenize_command(const std::vector<std::string>& args) {
  std::string tokenizer_path, input, output;
  bool add_bos = false;
  po::options_description o("Tokenize");
  o.add_options()
      ("tokenizer", po::value(&tokenizer_path)->required(),
       "a Hugging Face tokenizer.json or a .gguf model (byte-level BPE: GPT-2, Llama 3, SmolLM2, ...)")
      ("input", po::value(&input)->required(), "UTF-8 text file")
      ("output", po::value(&output)->required(), "token ids, little-endian uint32 (written atomically)")
      ("add-bos", po::bool_switch(&add_bos), "put the tokenizer's BOS token first (whatever the model's own default)");
  if (!parse_command_line("tokenize", "--tokenizer FILE --input TEXT --output IDS.u32 [--add-bos]", args, o)) return 0;

  const auto start = std::chrono::steady_clock::now();
  const BpeTokenizer tokenizer = BpeTokenizer::from_file(tokenizer_path);
  const std::string text = read_text(input);
  const auto loaded = std::chrono::steady_clock::now();
  std::vector<int32_t> ids;
  try {
    ids = tokenizer.encode(text);
  } catch (const std::invalid_argument& e) {  // bad input bytes: a data error, not a usage error
    throw std::runtime_error(input + ": " + e.what());
  }
  const auto encoded = std::chrono::steady_clock::now();
  if (add_bos) {
    if (!tokenizer.bos_id()) throw std::runtime_error(tokenizer_path + ": the tokenizer defines no BOS token");
    ids.insert(ids.begin(), *tokenizer.bos_id());
  }
  formats::write_file_atomically(output, little_endian_u32(ids));

  const auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  fmt::print("wrote {}: {} tokens from {} bytes (vocabulary {}; load {:.2f} s, encode {:.2f} s)\n", output, ids.size(),
             text.size(), tokenizer.vocab_size(), seconds(start, loaded), seconds(loaded, encoded));
  if (tokenizer.add_bos() && !add_bos)
    fmt::print("note: the model itself starts sequences with BOS (id {}); --add-bos adds it\n", *tokenizer.bos_id());
  return 0;
}

}  // namespace longrope
