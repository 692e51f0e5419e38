// Generator values against numbers worked by hand from the formulas.
#include "rope/rope_scaling.h"
#include "rope/runtime_rule.h"

#include <gtest/gtest.h>

#include <cmath>

namespace longrope {
namespace {

const RopeGeometry kLlama2{128, 10000.0, 4096};

TEST(RopeScaling, NoneIsAllOnes) {
  const RopeScaling r = rope_none(kLlama2);
  ASSERT_EQ(r.lambda.size(), 64u);
  for (double v : r.lambda) EXPECT_EQ(v, 1.0);
  EXPECT_EQ(r.attention_factor, 1.0);
  EXPECT_EQ(r.start_tokens, 0);
}

TEST(RopeScaling, PiDividesEveryFrequencyByScale) {
  const RopeScaling r = rope_pi(kLlama2, 8.0);
  for (double v : r.lambda) EXPECT_EQ(v, 8.0);
  const auto plain = inverse_frequencies(kLlama2, rope_none(kLlama2).lambda);
  const auto scaled = inverse_frequencies(kLlama2, r.lambda);
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_DOUBLE_EQ(scaled[i] * 8.0, plain[i]);
}

TEST(RopeScaling, NtkChangesTheBase) {
  // d = 8, s = 16: b' = b·16^(8/6); λ_i = 16^(2i/6), so λ_3 = 16 and λ_1 = 16^(1/3) = 2.519842.
  const RopeGeometry g{8, 10000.0, 512};
  const RopeScaling r = rope_ntk(g, 16.0);
  EXPECT_DOUBLE_EQ(r.lambda[0], 1.0);
  EXPECT_NEAR(r.lambda[1], 2.519842, 1e-6);
  EXPECT_NEAR(r.lambda[3], 16.0, 1e-12);
  const auto inv = inverse_frequencies(g, r.lambda);
  const double new_base = 10000.0 * std::pow(16.0, 8.0 / 6.0);
  for (size_t i = 0; i < inv.size(); ++i) EXPECT_NEAR(inv[i], std::pow(new_base, -2.0 * i / 8.0), 1e-15);
}

TEST(RopeScaling, DynamicNtkIsPlainUpToOriginalLength) {
  const RopeGeometry g{8, 10000.0, 512};
  for (double v : rope_dynamic_ntk(g, 4.0, 300).lambda) EXPECT_NEAR(v, 1.0, 1e-15);
  // T = 2L, s = 2: ratio (2·2 − 1) = 3, so λ_i = 3^(2i/(d−2)); λ_3 = 3.
  const RopeScaling r = rope_dynamic_ntk(g, 2.0, 1024);
  EXPECT_NEAR(r.lambda[3], 3.0, 1e-12);
  EXPECT_NEAR(r.lambda[1], std::cbrt(3.0), 1e-12);
}

TEST(RopeScaling, YarnRampOnLlama2) {
  // base 1e4, L = 4096, d = 128, β = (32, 1): correction range [20, 46] (reference worked example).
  const auto ramp = yarn_ramp(kLlama2, 32.0, 1.0, true);
  EXPECT_EQ(ramp[20], 0.0);
  EXPECT_EQ(ramp[46], 1.0);
  EXPECT_NEAR(ramp[33], 0.5, 1e-12);
  const RopeScaling r = rope_yarn(kLlama2, 8.0);
  EXPECT_DOUBLE_EQ(r.lambda[0], 1.0);
  EXPECT_DOUBLE_EQ(r.lambda[63], 8.0);
  EXPECT_NEAR(r.lambda[33], 1.0 / (0.5 / 8.0 + 0.5), 1e-12);  // 1.777…: YaRN blends 1/λ
  EXPECT_NEAR(r.attention_factor, 0.1 * std::log(8.0) + 1.0, 1e-12);  // 1.2079
}

TEST(RopeScaling, YarnShapedSeedBlendsLambdaLinearly) {
  const auto seed = yarn_shaped_lambda(kLlama2, 8.0);
  EXPECT_EQ(seed[20], 1.0);
  EXPECT_NEAR(seed[21], 1.0 + 7.0 / 26.0, 1e-12);  // +0.269 per dimension
  EXPECT_NEAR(seed[33], 4.5, 1e-12);
  EXPECT_EQ(seed[46], 8.0);
  EXPECT_EQ(seed[63], 8.0);
}

TEST(RopeScaling, Llama3OnLlama31) {
  // Llama 3.1 8B: θ 500 000, d 128, L 8192, s 8, low 1, high 4. Wavelengths below L/4 = 2048 (pairs
  // up to 28) keep θ_i, those above L = 8192 (pairs from 35) are divided by 8, pairs 29..34 blend.
  const RopeGeometry g{128, 500000.0, 8192};
  const RopeScaling r = rope_llama3(g, 8.0, 1.0, 4.0);
  ASSERT_EQ(r.lambda.size(), 64u);
  for (int i = 0; i <= 28; ++i) EXPECT_EQ(r.lambda[i], 1.0) << i;
  for (int i = 35; i < 64; ++i) EXPECT_EQ(r.lambda[i], 8.0) << i;
  // Pair 32: wavelength 2π·500000^0.5 = 4442.88; σ = (8192/4442.88 − 1)/3 = 0.28128; λ = 1/((1 − σ)/8 + σ).
  EXPECT_NEAR(r.lambda[32], 2.6945296878947333, 1e-12);
  EXPECT_NEAR(r.lambda[29], 1.207483871283662, 1e-12);
  EXPECT_NEAR(r.lambda[34], 5.257326588708467, 1e-12);
  for (int i = 29; i <= 35; ++i) EXPECT_GT(r.lambda[i], r.lambda[i - 1]) << i;
  EXPECT_EQ(r.attention_factor, 1.0);
  EXPECT_EQ(r.start_tokens, 0);
  // The same inverse frequencies as transformers' formula, written its way: a blend of θ/s and θ.
  const std::vector<double> plain = inverse_frequencies(g, rope_none(g).lambda);
  const std::vector<double> scaled = inverse_frequencies(g, r.lambda);
  for (size_t i = 0; i < plain.size(); ++i) {
    const double wavelength = 2 * M_PI / plain[i];
    const double smooth = (8192.0 / wavelength - 1.0) / 3.0;
    const double want = wavelength < 2048.0 ? plain[i] : wavelength > 8192.0 ? plain[i] / 8.0
                                                                               : (1 - smooth) * plain[i] / 8.0 + smooth * plain[i];
    EXPECT_NEAR(scaled[i], want, 1e-14 * want) << i;
  }
  EXPECT_THROW(rope_llama3(g, 8.0, 4.0, 1.0), std::invalid_argument);  // high below low
  EXPECT_THROW(rope_llama3(g, 0.5, 1.0, 4.0), std::invalid_argument);
}

TEST(RopeScaling, LongRopeSuFactor) {
  EXPECT_NEAR(longrope_attention_factor(8.0, 4096), 1.1180, 1e-4);    // LLaMA2 4k -> 32k
  EXPECT_NEAR(longrope_attention_factor(32.0, 4096), 1.19024, 1e-5);  // Phi-3-mini-128k
  EXPECT_NEAR(longrope_attention_factor(4.0, 8192), 1.0742, 1e-4);    // Llama-3 8k -> 32k
  EXPECT_EQ(longrope_attention_factor(1.0, 4096), 1.0);
  const RopeScaling r = rope_longrope(kLlama2, std::vector<double>(64, 2.0), 4, 8.0);
  EXPECT_NEAR(r.attention_factor, 1.1180, 1e-4);
  EXPECT_EQ(rope_longrope(kLlama2, std::vector<double>(64, 2.0), 0, 8.0, 1.0).attention_factor, 1.0);
}

// Another base is λ_i = (b'/b)^(2i/d) on the model's own: the same inverse frequencies.
TEST(RopeScaling, WithBaseMatchesTheOtherBase) {
  const RopeGeometry other{128, 500000.0, 4096};
  const std::vector<double> got = inverse_frequencies(kLlama2, rope_with_base(kLlama2, 500000.0).lambda);
  const std::vector<double> want = inverse_frequencies(other, std::vector<double>(64, 1.0));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-15 * want[i]) << i;
  EXPECT_THROW(rope_with_base(kLlama2, 1.0), std::invalid_argument);
}

TEST(RopeScaling, CriticalDimensionIsTheFirstPairLongerThanL) {
  // LongRoPE2's theoretical values: LLaMA-3-8B (θ 500 000, head dim 128, L 8192) 35; LLaMA-2-7B 46.
  EXPECT_EQ(critical_dimension({128, 500000.0, 8192}), 35);
  EXPECT_EQ(critical_dimension({128, 10000.0, 4096}), 46);
  EXPECT_EQ(critical_dimension({64, 27.0, 64}), 23);  // models/shipped/books-bytes-3m-l64
  EXPECT_EQ(critical_dimension({64, 10000.0, 4}), 0);  // L < 2π: no pair completes a period
  // By definition: pair c's wavelength exceeds L, pair c − 1's does not.
  const RopeGeometry g{128, 500000.0, 8192};
  const auto wavelength = [&](int64_t i) { return 2 * M_PI * std::pow(g.base, 2.0 * i / g.rotary_dim); };
  EXPECT_GT(wavelength(35), 8192.0);
  EXPECT_LE(wavelength(34), 8192.0);
}

// Which factor set each runtime applies (rope/runtime_rule.h; measured against the runtimes themselves
// by tests/python/runtime_parity.py).
TEST(RuntimeRule, EachRuntimeChoosesByItsOwnLength) {
  const RuntimeRule transformers{Runtime::Transformers};
  EXPECT_FALSE(transformers.long_factors(256, 256));  // up to L: short
  EXPECT_TRUE(transformers.long_factors(257, 256));
  const RuntimeRule vllm{Runtime::VLLM, 4096, 0};  // --max-model-len beyond L: long for every request
  EXPECT_TRUE(vllm.long_factors(10, 256));
  EXPECT_FALSE((RuntimeRule{Runtime::VLLM, 256, 0}).long_factors(10, 256));
  const RuntimeRule llama_cpp{Runtime::LlamaCpp};  // n_ctx = the window, padded up to a multiple of 256
  EXPECT_FALSE(llama_cpp.long_factors(255, 256));  // padded to 256
  EXPECT_TRUE(llama_cpp.long_factors(257, 256));   // padded to 512
  EXPECT_TRUE(llama_cpp.long_factors(32, 64));     // a 32-token window of an L = 64 model: padded to 256 > 64
  EXPECT_TRUE((RuntimeRule{Runtime::LlamaCpp, 0, 1024}).long_factors(100, 256));  // a short prompt in a long context
}

TEST(RopeScaling, RejectsMalformedTables) {
  // A malformed table is bad data: the error names its file.
  EXPECT_THROW(rope_longrope(kLlama2, std::vector<double>(63, 1.0), 0, 8.0), std::runtime_error);
  std::vector<double> bad(64, 1.0);
  bad[5] = -1.0;
  try {
    rope_longrope(kLlama2, bad, 0, 8.0, std::nullopt, "t.json");
    ADD_FAILURE() << "a negative factor was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "t.json: field 'lambda[5]': -1 is not a positive number");
  }
  EXPECT_THROW(rope_longrope(kLlama2, std::vector<double>(64, 1.0), -1, 8.0), std::runtime_error);
  EXPECT_THROW(rope_pi(kLlama2, 0.5), std::invalid_argument);
}

}  // namespace
}  // namespace longrope
