// ggml block formats: hand-built blocks whose values are worked out from the layouts in the header.
#include "formats/ggml_dequantize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace longrope::formats {
namespace {

using ::testing::HasSubstr;

void put_u16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v & 0xFF));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

std::vector<float> dequantize(GgmlType type, const std::vector<uint8_t>& bytes, int64_t count) {
  std::vector<float> out(static_cast<size_t>(count), std::nanf(""));
  ggml_dequantize(type, bytes.data(), out.data(), count);
  return out;
}

// Nibbles such that element j < 16 holds j and element j + 16 holds 15 - j.
void put_test_nibbles(std::vector<uint8_t>& b) {
  for (int j = 0; j < 16; ++j) b.push_back(static_cast<uint8_t>(j | ((15 - j) << 4)));
}
int test_nibble(int j) { return j < 16 ? j : 15 - (j - 16); }

TEST(GgmlDequantize, HalfFloats) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(half_to_float(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(half_to_float(0x8000), 0.0f);
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_EQ(half_to_float(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
}

TEST(GgmlDequantize, DenseTypes) {
  std::vector<uint8_t> f16, bf16, f32;
  for (uint16_t h : {0x3C00, 0xC000, 0x3800}) put_u16(f16, h);
  EXPECT_EQ(dequantize(GgmlType::F16, f16, 3), (std::vector<float>{1.0f, -2.0f, 0.5f}));
  for (uint16_t h : {0x3F80, 0xC040, 0x0000}) put_u16(bf16, h);
  EXPECT_EQ(dequantize(GgmlType::BF16, bf16, 3), (std::vector<float>{1.0f, -3.0f, 0.0f}));
  const float values[2] = {1.5f, -7.25f};
  f32.resize(8);
  std::memcpy(f32.data(), values, 8);
  EXPECT_EQ(dequantize(GgmlType::F32, f32, 2), (std::vector<float>{1.5f, -7.25f}));
}

TEST(GgmlDequantize, Q4_0) {
  std::vector<uint8_t> b;
  put_u16(b, 0x3800);  // d = 0.5
  put_test_nibbles(b);
  ASSERT_EQ(b.size(), 18u);
  const std::vector<float> x = dequantize(GgmlType::Q4_0, b, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(x[j], (test_nibble(j) - 8) * 0.5f) << j;
}

TEST(GgmlDequantize, Q4_1) {
  std::vector<uint8_t> b;
  put_u16(b, 0x3400);  // d = 0.25
  put_u16(b, 0xBC00);  // m = -1
  put_test_nibbles(b);
  ASSERT_EQ(b.size(), 20u);
  const std::vector<float> x = dequantize(GgmlType::Q4_1, b, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(x[j], test_nibble(j) * 0.25f - 1.0f) << j;
}

TEST(GgmlDequantize, Q5_0) {
  std::vector<uint8_t> b;
  put_u16(b, 0x3C00);  // d = 1
  for (int i = 0; i < 4; ++i) b.push_back(0xAA);  // the fifth bit set for odd elements
  put_test_nibbles(b);
  ASSERT_EQ(b.size(), 22u);
  const std::vector<float> x = dequantize(GgmlType::Q5_0, b, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(x[j], static_cast<float>(test_nibble(j) + (j % 2 ? 16 : 0) - 16)) << j;
}

TEST(GgmlDequantize, Q5_1) {
  std::vector<uint8_t> b;
  put_u16(b, 0x3800);  // d = 0.5
  put_u16(b, 0x4000);  // m = 2
  for (uint8_t qh : {0x01, 0x00, 0x00, 0x80}) b.push_back(qh);  // elements 0 and 31
  put_test_nibbles(b);
  ASSERT_EQ(b.size(), 24u);
  const std::vector<float> x = dequantize(GgmlType::Q5_1, b, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(x[j], (test_nibble(j) + (j == 0 || j == 31 ? 16 : 0)) * 0.5f + 2.0f) << j;
}

TEST(GgmlDequantize, Q8_0TwoBlocks) {
  std::vector<uint8_t> b;
  for (uint16_t d : {0x3000, 0xC000}) {  // 0.125, then -2
    put_u16(b, d);
    for (int j = 0; j < 32; ++j) b.push_back(static_cast<uint8_t>(static_cast<int8_t>(j * 8 - 128)));
  }
  ASSERT_EQ(b.size(), 68u);
  const std::vector<float> x = dequantize(GgmlType::Q8_0, b, 64);
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(x[j], (j * 8 - 128) * 0.125f) << j;
    EXPECT_EQ(x[32 + j], (j * 8 - 128) * -2.0f) << j;
  }
}

TEST(GgmlDequantize, RefusesOtherTypesByName) {
  std::vector<uint8_t> b(144);
  EXPECT_FALSE(ggml_can_dequantize(GgmlType::Q4_K));
  try {
    dequantize(GgmlType::Q4_K, b, 256);
    FAIL() << "Q4_K was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("Q4_K"));
  }
  EXPECT_THROW(dequantize(GgmlType::Q8_0, std::vector<uint8_t>(34), 16), std::invalid_argument);
}

}  // namespace
}  // namespace longrope::formats
