// ggml_dequantize: ggml tensor blocks (llama.cpp's storage types) expanded to float32.
//
// Block layouts, per 32 elements (d, m: IEEE half scale and minimum; qs: packed quants, low nibbles
// hold elements 0..15 and high nibbles 16..31; qh: the fifth bit of each 5-bit quant):
//   Q4_0  d, qs[16]              x = (q - 8)·d
//   Q4_1  d, m, qs[16]           x = q·d + m
//   Q5_0  d, qh[4], qs[16]       x = (q - 16)·d
//   Q5_1  d, m, qh[4], qs[16]    x = q·d + m
//   Q8_0  d, int8 qs[32]         x = q·d
// F32, F16 and BF16 convert element by element. Other types (the K- and I-quants, ...) are refused
// by name: a model silently read with the wrong layout would be worse than no model.
#pragma once

#include <cstdint>

#include "formats/gguf.h"

namespace longrope::formats {

bool ggml_can_dequantize(GgmlType type);

// Expands `count` elements (a multiple of the type's block size) starting at `src` into `dst`.
// Throws std::invalid_argument for an unsupported type or a count that splits a block.
void ggml_dequantize(GgmlType type, const uint8_t* src, float* dst, int64_t count);

float half_to_float(uint16_t h);

}  // namespace longrope::formats
