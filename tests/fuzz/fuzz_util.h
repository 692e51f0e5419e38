// Helpers of the fuzz targets.
#pragma once

#include <cstddef>
#include <cstdint>

namespace longrope::fuzz {

// Reads every byte of a view the parser handed out, so that ASan reports one outside the input.
inline void touch(const uint8_t* data, size_t nbytes) {
  volatile uint8_t sink = 0;
  for (size_t i = 0; i < nbytes; ++i) sink = sink ^ data[i];
  (void)sink;
}

}  // namespace longrope::fuzz
