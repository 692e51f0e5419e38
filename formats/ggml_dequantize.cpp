// ggml block formats expanded to float32; see the header for the layouts.
#include "formats/ggml_dequantize.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace longrope::formats {
namespace {

constexpr int kBlock = 32;  // elements per block for every quantized type here

uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
float read_half(const uint8_t* p) { return half_to_float(read_u16(p)); }

float bf16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Element j < 16 is the low nibble of qs[j], element j + 16 its high nibble.
void nibbles(const uint8_t* qs, int q[kBlock]) {
  for (int j = 0; j < kBlock / 2; ++j) {
    q[j] = qs[j] & 0x0F;
    q[j + kBlock / 2] = qs[j] >> 4;
  }
}

// Adds the fifth bit: bit j of the little-endian u32 qh belongs to element j.
void fifth_bits(const uint8_t* qh_bytes, int q[kBlock]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);  // little-endian host (x86, ARM), as ggml itself assumes
  for (int j = 0; j < kBlock; ++j) q[j] |= static_cast<int>((qh >> j) & 1u) << 4;
}

}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalise the mantissa
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    bits = sign | ((112 - e) << 23) | ((mant & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

bool ggml_can_dequantize(GgmlType type) {
  switch (type) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q4_0:
    case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q8_0:
      return true;
    default:
      return false;
  }
}

void ggml_dequantize(GgmlType type, const uint8_t* src, float* dst, int64_t count) {
  if (!ggml_can_dequantize(type))
    throw std::invalid_argument(std::string("tensor type ") + ggml_type_name(type) + " is not supported (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0)");
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(count) * 4);
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < count; ++i) dst[i] = read_half(src + 2 * i);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < count; ++i) dst[i] = bf16_to_float(read_u16(src + 2 * i));
      return;
    default:
      break;
  }
  if (count % kBlock != 0)
    throw std::invalid_argument(std::string(ggml_type_name(type)) + ": " + std::to_string(count) + " elements split a block of 32");
  const uint32_t block_bytes = ggml_type_traits(static_cast<uint32_t>(type))->block_bytes;
  int q[kBlock];
  for (int64_t b = 0; b < count / kBlock; ++b, src += block_bytes, dst += kBlock) {
    switch (type) {
      case GgmlType::Q4_0: {
        const float d = read_half(src);
        nibbles(src + 2, q);
        for (int j = 0; j < kBlock; ++j) dst[j] = static_cast<float>(q[j] - 8) * d;
        break;
      }
      case GgmlType::Q4_1: {
        const float d = read_half(src), m = read_half(src + 2);
        nibbles(src + 4, q);
        for (int j = 0; j < kBlock; ++j) dst[j] = static_cast<float>(q[j]) * d + m;
        break;
      }
      case GgmlType::Q5_0: {
        const float d = read_half(src);
        nibbles(src + 6, q);
        fifth_bits(src + 2, q);
        for (int j = 0; j < kBlock; ++j) dst[j] = static_cast<float>(q[j] - 16) * d;
        break;
      }
      case GgmlType::Q5_1: {
        const float d = read_half(src), m = read_half(src + 2);
        nibbles(src + 8, q);
        fifth_bits(src + 4, q);
        for (int j = 0; j < kBlock; ++j) dst[j] = static_cast<float>(q[j]) * d + m;
        break;
      }
      case GgmlType::Q8_0: {
        const float d = read_half(src);
        for (int j = 0; j < kBlock; ++j) dst[j] = static_cast<float>(static_cast<int8_t>(src[2 + j])) * d;
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace longrope::formats
