// libFuzzer: the safetensors header parser on arbitrary bytes. Every input parses, with each tensor
// inside the input, or throws FormatError; anything else (another exception, a crash, a read outside
// the buffer under ASan) is a finding.
#include "formats/format_error.h"
#include "formats/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace longrope::formats;
  try {
    const SafetensorsFile file = SafetensorsFile::parse(data, size, "fuzz.safetensors");
    for (const std::string& name : file.names()) longrope::fuzz::touch(file.get(name).data, file.get(name).nbytes);
  } catch (const FormatError&) {
  }
  return 0;
}
