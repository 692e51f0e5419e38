// libFuzzer: the .npy reader on arbitrary bytes. Each input parses, with its data inside the input,
// or throws FormatError.
#include "formats/format_error.h"
#include "formats/npy.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace longrope::formats;
  try {
    const NpyArray array = parse_npy(data, size, "fuzz.npy");
    longrope::fuzz::touch(array.data, array.nbytes);
  } catch (const FormatError&) {
  }
  return 0;
}
