// A method as a user names it, turned into a scaling: runtimes' rules and composition over a table.
#include "models/rope_methods.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/test_models.h"
#include "util/errors.h"

namespace longrope {
namespace {

using ::testing::HasSubstr;

FactorTable table_8x(const LlamaConfig& c) {
  FactorTable t;
  t.rope_base = c.rope_theta;
  t.rotary_dim = c.rotary_dim();
  t.original_length = c.original_max_position_embeddings;
  t.target_length = 8 * t.original_length;
  t.scale = 8;
  t.lambda = {1.0, 1.5, 4.0, 8.5};
  t.short_lambda = {1.0, 1.0, 1.1, 1.2};
  t.start_tokens = 4;
  return t;
}

// --compose-with: a baseline on a model fine-tuned with a table runs on top of it, for what is left.
TEST(RopeMethods, BaselinesComposeOverAFineTuneTable) {
  const LlamaConfig c = tiny_config();  // L = 64, head_dim 8
  RopeMethodSpec yarn;
  yarn.method = RopeMethod::YaRN;
  yarn.compose_with = table_8x(c);
  const RopeScaling composed = make_rope_scaling(c, yarn, 4096);  // 64x: YaRN for the 8x left beyond 512
  const RopeScaling own = rope_yarn(c.rope_geometry(), 8.0);
  const RopeScaling base = rope_longrope(c.rope_geometry(), table_8x(c).lambda, 0, 8.0);
  for (size_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(composed.lambda[i], own.lambda[i] * table_8x(c).lambda[i]) << i;
  EXPECT_DOUBLE_EQ(composed.attention_factor, own.attention_factor * base.attention_factor);
  RopeMethodSpec table;  // a progressive table already holds its base: left as it is
  table.method = RopeMethod::LongRoPE;
  table.table = table_8x(c);
  table.compose_with = table_8x(c);
  EXPECT_EQ(make_rope_scaling(c, table, 512).lambda, table_8x(c).lambda);
}

// --runtime: a table runs short up to L and long beyond (transformers), without n̂; a baseline needs its s.
TEST(RopeMethods, ARuntimeAppliesItsOwnRule) {
  const LlamaConfig c = tiny_config();
  RopeMethodSpec t;
  t.method = RopeMethod::LongRoPE;
  t.table = table_8x(c);
  t.runtime = RuntimeRule{Runtime::Transformers};
  EXPECT_EQ(make_rope_scaling(c, t, 64).lambda, table_8x(c).short_lambda);
  const RopeScaling long_set = make_rope_scaling(c, t, 65);
  EXPECT_EQ(long_set.lambda, table_8x(c).lambda);
  EXPECT_EQ(long_set.start_tokens, 0) << "no runtime has n̂";
  EXPECT_DOUBLE_EQ(make_rope_scaling(c, t, 64).attention_factor, long_set.attention_factor) << "one attention factor for both";
  t.decode_from = 60;  // decoded across L: the keys cached up to L keep the short factors
  const RopeScaling decoded = make_rope_scaling(c, t, 70);
  EXPECT_EQ(decoded.start_tokens, 64);
  EXPECT_EQ(decoded.early_lambda, table_8x(c).short_lambda);
  t.runtime = RuntimeRule{Runtime::VLLM, 512, 0};  // one set for the server
  t.decode_from.reset();
  EXPECT_EQ(make_rope_scaling(c, t, 10).lambda, table_8x(c).lambda);
  RopeMethodSpec yarn;
  yarn.method = RopeMethod::YaRN;
  yarn.runtime = RuntimeRule{Runtime::Transformers};
  EXPECT_THAT([&] { make_rope_scaling(c, yarn, 128); }, ::testing::ThrowsMessage<InvalidSetting>(HasSubstr("fixed factor")));
  yarn.scale = 8;
  EXPECT_EQ(make_rope_scaling(c, yarn, 128).lambda, make_rope_scaling(c, yarn, 512).lambda) << "a config holds one s";
}

}  // namespace
}  // namespace longrope
