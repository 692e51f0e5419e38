// libFuzzer: a factor table from arbitrary text, read both ways the tool reads one (table JSON and
// the reference CSV). Each input is read, with every factor finite, >= 1 and non-decreasing, or
// throws std::runtime_error naming the source.
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "tables/factor_table.h"
#include "formats/json_file.h"

namespace {

void check(const std::vector<double>& lambda) {
  for (size_t i = 0; i < lambda.size(); ++i)
    if (!std::isfinite(lambda[i]) || lambda[i] < 1.0 - 1e-9 || (i > 0 && lambda[i] < lambda[i - 1] * (1 - 1e-9))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const longrope::FactorTable table =
        longrope::factor_table_from_json(longrope::formats::parse_json_text(text, "fuzz.json"), "fuzz.json");
    check(table.lambda);
    check(table.short_lambda);
    longrope::factor_table_to_json(table).dump();
  } catch (const std::runtime_error&) {
  }
  try {
    check(longrope::parse_factor_csv(text, "fuzz.csv"));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
