// longrope tokenize: a text file to the token ids of a model's own byte-level BPE tokenizer
// (Hugging Face tokenizer.json or GGUF metadata), written as little-endian uint32. Torch-free.
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/shared_options.h"
#include "formats/output_paths.h"
#include "tokenizer/tokenize_file.h"

namespace po = boost::program_options;

namespace longrope {

int tokenize_command(const std::vector<std::string>& args) {
  std::string tokenizer, input, output;
  bool add_bos = false;
  po::options_description o("Tokenize");
  o.add_options()
      ("tokenizer", po::value(&tokenizer)->required(),
       "a Hugging Face tokenizer.json or a .gguf model (byte-level BPE: GPT-2, Llama 3, SmolLM2, ...)")
      ("input", po::value(&input)->required(), "UTF-8 text file")
      ("output", po::value(&output)->required(), "token ids, little-endian uint32 (written atomically)")
      ("add-bos", po::bool_switch(&add_bos), "put the tokenizer's BOS token first (whatever the model's own default)");
  if (!parse_command_line("tokenize", "--tokenizer FILE --input TEXT --output IDS.u32 [--add-bos]", args, o)) return 0;
  formats::check_output_files("--output", {output}, joined({{"--input", input}}, tokenizer_inputs(tokenizer)));

  const TokenizeReport r = tokenize_file(tokenizer, input, output, add_bos);
  fmt::print("wrote {}: {} tokens from {} bytes (vocabulary {}; load {:.2f} s, encode {:.2f} s)\n", output, r.tokens, r.bytes,
             r.vocab_size, r.load_seconds, r.encode_seconds);
  if (r.dropped_bytes > 0)
    fmt::print(stderr, "warning: {}: {} bytes have no token in the vocabulary and were dropped, as transformers drops them (the "
               "first at offset {}); eval refuses such text\n", input, r.dropped_bytes, r.first_dropped_offset);
  if (r.model_bos && !add_bos) fmt::print("note: the model itself starts sequences with BOS (id {}); --add-bos adds it\n", *r.model_bos);
  return 0;
}

}  // namespace longrope
