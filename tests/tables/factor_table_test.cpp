// Factor tables: JSON round trip, the reference CSV, malformed files rejected with the field named.
#include "tables/factor_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path temp_dir() {
  const fs::path d = fs::temp_directory_path() / ("longrope-table-test-" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

TEST(FactorTable, JsonRoundTripKeepsEveryField) {
  FactorTable t;
  t.model = "tiny";
  t.rope_base = 10000;
  t.rotary_dim = 8;
  t.original_length = 256;
  t.target_length = 2048;
  t.scale = 8;
  t.lambda = {1.0, 1.5, 3.25, 8.0};
  t.start_tokens = 4;
  t.attention_factor = 1.2;
  t.details["search_ppl"] = 12.5;
  const fs::path p = temp_dir() / "t.json";
  write_factor_table(p.string(), t);
  const FactorTable r = read_factor_table(p.string());
  EXPECT_EQ(r.lambda, t.lambda);
  EXPECT_EQ(r.start_tokens, 4);
  EXPECT_EQ(*r.attention_factor, 1.2);
  EXPECT_EQ(r.target_length, 2048);
  EXPECT_EQ(r.details["search_ppl"], 12.5);
  EXPECT_FALSE(fs::exists(p.string() + ".tmp"));
}

// The search draws n̂ from the paper's set {0, ..., 256}; on a model trained at L = 64 its winner can
// keep 256 positions, and its own table must read back (it once did not, stopping a resumed 512x run).
TEST(FactorTable, StartTokensPastTheOriginalLengthUpToTheTarget) {
  FactorTable t;
  t.rotary_dim = 4;
  t.original_length = 64;
  t.target_length = 32768;
  t.scale = 512;
  t.lambda = {1.0, 600.0};
  t.start_tokens = 256;
  const fs::path p = temp_dir() / "n256.json";
  write_factor_table(p.string(), t);
  EXPECT_EQ(read_factor_table(p.string()).start_tokens, 256);
  std::ofstream(temp_dir() / "past.json")
      << R"({"lambda": [1.0, 2.0], "original_length": 64, "target_length": 128, "start_tokens": 129})";
  try {
    read_factor_table((temp_dir() / "past.json").string());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("field 'start_tokens': 129 is outside [0, 128]"));
  }
}

TEST(FactorTable, ReferenceCsvOneFactorPerLine) {
  const fs::path p = temp_dir() / "result_final.csv";
  write_factor_csv(p.string(), {1.0, 1.01, 64.77});
  std::ifstream in(p);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "1.000000000000000000e+00");  // numpy.savetxt's %.18e
  EXPECT_EQ(read_factor_table(p.string()).lambda, (std::vector<double>{1.0, 1.01, 64.77}));
}

TEST(FactorTable, RejectsMalformedTables) {
  const fs::path d = temp_dir();
  std::ofstream(d / "bad.csv") << "1.0\n2.0\nabc\n";
  try {
    read_factor_table((d / "bad.csv").string());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("line 3"));
  }
  std::ofstream(d / "neg.json") << R"({"lambda": [1.0, -2.0]})";
  try {
    read_factor_table((d / "neg.json").string());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("field 'lambda[1]'"));
  }
  std::ofstream(d / "len.json") << R"({"lambda": [1.0, 2.0], "head_dim": 8})";
  EXPECT_THROW(read_factor_table((d / "len.json").string()), std::runtime_error);
  std::ofstream(d / "trunc.json") << R"({"lambda": [1.0, )";
  EXPECT_THROW(read_factor_table((d / "trunc.json").string()), std::runtime_error);
  std::ofstream(d / "empty.csv") << "";
  EXPECT_THROW(read_factor_table((d / "empty.csv").string()), std::runtime_error);
}

std::string table_error(const std::string& json) {
  try {
    factor_table_from_json(nlohmann::json::parse(json), "t.json");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "accepted";
}

// Tables that read without complaint and mean nothing: a scale no extension has, a scale that is not
// its own lengths' ratio, factors far beyond the scale.
TEST(FactorTable, RefusesTablesThatDisagreeWithThemselves) {
  EXPECT_EQ(table_error(R"({"lambda": [1.0, 2.0], "scale": 1e308})"), "t.json: field 'scale': 1e+308 is not an extension ratio in [1, 10^6]");
  EXPECT_EQ(table_error(R"({"lambda": [1.0, 2.0], "original_length": 64, "target_length": 256, "scale": 8})"),
            "t.json: field 'scale': 8 disagrees with target_length / original_length = 256 / 64 = 4");
  EXPECT_EQ(table_error(R"({"lambda": [100000, 100000], "original_length": 64, "target_length": 256, "scale": 4})"),
            "t.json: field 'lambda[0]': 100000 is beyond 4 × the table's scale s = 4 (the search bounds a factor by 1.25·s)");
  EXPECT_THAT(table_error(R"({"lambda": [1.0, 2.0], "short_lambda": [1.0, 50.0], "original_length": 64, "target_length": 128})"),
              HasSubstr("field 'short_lambda[1]': 50 is beyond 4 × the table's scale s = 2"));
  // The search's own tables, and tables without a scale (a reference CSV), are left as they were.
  EXPECT_EQ(table_error(R"({"lambda": [1.0, 5.0], "original_length": 64, "target_length": 256, "scale": 4})"), "accepted");
  EXPECT_EQ(table_error(R"({"lambda": [1.0, 100000]})"), "accepted");
}

}  // namespace
}  // namespace longrope
