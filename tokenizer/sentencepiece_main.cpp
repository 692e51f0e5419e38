// longrope-tokenize: SentencePiece tokenization in its own process. Debian's SentencePiece bundles a
// protobuf that crashes processes that also load LibTorch, so this executable links no LibTorch.
#include <sentencepiece_processor.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: longrope-tokenize --model tokenizer.model --input TEXT_FILE --output TOKENS.u32\n"
               "Writes the token ids of TEXT_FILE as little-endian uint32 (no BOS).\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, input, output;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") return usage(), 0;
    if (i + 1 >= argc) return usage();
    if (a == "--model") model = argv[++i];
    else if (a == "--input") input = argv[++i];
    else if (a == "--output") output = argv[++i];
    else return usage();
  }
  if (model.empty() || input.empty() || output.empty()) return usage();
  sentencepiece::SentencePieceProcessor sp;
  const auto status = sp.Load(model);
  if (!status.ok()) {
    std::fprintf(stderr, "longrope-tokenize: %s: %s\n", model.c_str(), status.ToString().c_str());
    return 1;
  }
  std::ifstream in(input, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "longrope-tokenize: %s: cannot open\n", input.c_str());
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::vector<int> ids;
  sp.Encode(text.str(), &ids);
  const std::string tmp = output + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    for (int id : ids) {
      const uint32_t v = static_cast<uint32_t>(id);
      out.write(reinterpret_cast<const char*>(&v), sizeof v);
    }
    if (!out) {
      std::fprintf(stderr, "longrope-tokenize: %s: write failed\n", tmp.c_str());
      return 1;
    }
  }
  if (std::rename(tmp.c_str(), output.c_str()) != 0) {
    std::fprintf(stderr, "longrope-tokenize: %s: cannot rename into place\n", output.c_str());
    return 1;
  }
  return 0;
}
