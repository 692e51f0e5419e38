// longrope-tokenize: SentencePiece tokenization in its own process. Debian's SentencePiece bundles a
// protobuf that crashes processes that also load LibTorch, so this executable links no LibTorch.
#include <sentencepiece_processor.h>

#include <sys/stat.h>

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

// One line on stderr, whatever SentencePiece says (its messages may span lines).
int fail(const std::string& what) {
  std::string line = what;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "%s\n", line.c_str());
  return 1;
}

bool regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

int run(const std::string& model, const std::string& input, const std::string& output) {
  if (!regular_file(model)) return fail(model + ": not a SentencePiece tokenizer.model file");
  if (!regular_file(input)) return fail(input + ": not a regular file");
  sentencepiece::SentencePieceProcessor sp;
  const auto status = sp.Load(model);
  if (!status.ok()) return fail(model + ": not a SentencePiece model");  // its status names its own source lines
  std::ifstream in(input, std::ios::binary);
  if (!in) return fail(input + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<int> ids;
  const auto encoded = sp.Encode(text.str(), &ids);
  if (!encoded.ok()) return fail(input + ": " + encoded.ToString());
  const std::string tmp = output + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    for (int id : ids) {
      const uint32_t v = static_cast<uint32_t>(id);
      out.write(reinterpret_cast<const char*>(&v), sizeof v);
    }
    if (!out) {
      std::remove(tmp.c_str());
      return fail(tmp + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), output.c_str()) != 0) {
    std::remove(tmp.c_str());
    return fail(output + ": cannot rename into place");
  }
  return 0;
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
  try {
    return run(model, input, output);
  } catch (const std::exception& e) {  // SentencePiece and the streams may throw on what they read
    return fail(model + ": " + e.what());
  }
}
