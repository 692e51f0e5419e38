// libFuzzer: the GGUF reader on arbitrary bytes, then what the tool reads from a GGUF: metadata of
// every type, tensor data, and a byte-level BPE vocabulary. Each input parses or throws FormatError.
#include "formats/format_error.h"
#include "formats/gguf.h"
#include "tests/fuzz/fuzz_util.h"
#include "tokenizer/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace longrope::formats;
  try {
    const GgufFile file = GgufFile::parse(data, size, "fuzz.gguf");
    for (const GgufTensorInfo& t : file.tensors()) longrope::fuzz::touch(t.data, t.nbytes);
    if (file.find("tokenizer.ggml.model")) longrope::BpeTokenizer::from_gguf(file);
  } catch (const FormatError&) {
  }
  return 0;
}
