// FactorTable JSON and CSV reading and writing.
#include "tables/factor_table.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "formats/atomic_file.h"
#include "formats/input_file.h"
#include "formats/json_file.h"

namespace longrope {
namespace {

using nlohmann::json;

std::runtime_error table_error(const std::string& source, const std::string& field, const std::string& what) {
  return std::runtime_error(fmt::format("{}: field '{}': {}", source, field, what));
}

// A cell as a message may show it: printable ASCII, at most 24 characters (a binary file is not echoed).
std::string printable(const std::string& cell) {
  std::string out;
  for (char c : cell.substr(0, 24)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return cell.size() > 24 ? out + "..." : out;
}

}  // namespace

void check_lambda_factors(const std::vector<double>& lambda, const std::function<std::string(size_t)>& where) {
  for (size_t i = 0; i < lambda.size(); ++i) {
    if (!std::isfinite(lambda[i]) || lambda[i] < 1.0 - 1e-12)
      throw std::runtime_error(fmt::format("{}: {} is below 1: LongRoPE factors are >= 1", where(i), lambda[i]));
    if (lambda[i] > 1e6)  // 512× extension needs factors near 640; a million divides θ to nothing
      throw std::runtime_error(fmt::format("{}: {} is beyond any extension (factors are at most 10^6)", where(i), lambda[i]));
    if (i > 0 && lambda[i] < lambda[i - 1] * (1.0 - 1e-12))
      throw std::runtime_error(fmt::format("{}: {} is below the factor before it ({}): LongRoPE factors are non-decreasing",
                                           where(i), lambda[i], lambda[i - 1]));
  }
}

namespace {

std::vector<double> number_list(const json& j, const char* key, const std::string& source, bool required) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) throw table_error(source, key, "missing");
    return {};
  }
  if (!j[key].is_array()) throw table_error(source, key, "expected a list of numbers");
  std::vector<double> out;
  for (size_t i = 0; i < j[key].size(); ++i) {
    const json& v = j[key][i];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= 0)
      throw table_error(source, fmt::format("{}[{}]", key, i), "expected a positive number, got " + v.dump());
    out.push_back(v.get<double>());
  }
  check_lambda_factors(out, [&](size_t i) { return fmt::format("{}: field '{}[{}]'", source, key, i); });
  return out;
}

// A count in a table: a non-negative integer (2.5 is not one, nor is 1e9 beyond `limit`).
int64_t count_field(const json& j, const char* key, const std::string& source, int64_t limit) {
  if (!j.contains(key) || j[key].is_null()) return 0;
  const json& v = j[key];
  const bool integral = v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                                  v.get<double>() == std::floor(v.get<double>()) && std::fabs(v.get<double>()) < 9e15);
  if (!integral) throw table_error(source, key, "expected a whole number, got " + v.dump());
  const int64_t n = v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(v.get<double>());
  if (n < 0 || n > limit) throw table_error(source, key, fmt::format("{} is outside [0, {}]", n, limit));
  return n;
}

template <typename T>
T field(const json& j, const char* key, T fallback, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const json::exception&) {
    throw table_error(source, key, "unexpected value " + j[key].dump());
  }
}

std::string read_text(const std::string& path) { return formats::read_regular_file(path); }

}  // namespace

json factor_table_to_json(const FactorTable& t) {
  json j = {{"format", "longrope-factor-table"},
            {"version", 1},
            {"model", t.model},
            {"rope_base", t.rope_base},
            {"head_dim", t.rotary_dim},
            {"original_length", t.original_length},
            {"target_length", t.target_length},
            {"scale", t.scale},
            {"lambda", t.lambda},
            {"start_tokens", t.start_tokens}};
  j["attention_factor"] = t.attention_factor ? json(*t.attention_factor) : json(nullptr);
  if (!t.short_lambda.empty()) j["short_lambda"] = t.short_lambda;
  for (const auto& [k, v] : t.details.items()) j[k] = v;
  return j;
}

// How far beyond its scale a table's factors may go: the search's bounds reach 1.25·s and 1 + s.
constexpr double kLambdaPerScale = 4.0;

FactorTable factor_table_from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw std::runtime_error(source + ": expected a JSON object");
  // Hand-written tables may omit format and version; a file of another kind, or of a newer longrope, may not.
  if (j.contains("format") && j["format"] != "longrope-factor-table")
    throw table_error(source, "format", fmt::format("{} is not a longrope factor table", j["format"].dump()));
  if (j.contains("version") && j["version"] != 1)
    throw table_error(source, "version", fmt::format("{}: this longrope reads version 1 tables", j["version"].dump()));
  FactorTable t;
  t.model = field<std::string>(j, "model", "", source);
  constexpr int64_t kLongest = int64_t{1} << 40;
  t.rope_base = field<double>(j, "rope_base", 0.0, source);
  if (t.rope_base != 0 && !(t.rope_base > 1 && std::isfinite(t.rope_base)))
    throw table_error(source, "rope_base", fmt::format("{} is not a base > 1", t.rope_base));
  t.rotary_dim = count_field(j, "head_dim", source, 1 << 20);
  t.original_length = count_field(j, "original_length", source, kLongest);
  t.target_length = count_field(j, "target_length", source, kLongest);
  t.scale = field<double>(j, "scale", 0.0, source);
  if (t.scale != 0 && !(t.scale >= 1 && t.scale <= 1e6))  // 0: not recorded; 10^6, as --scale
    throw table_error(source, "scale", fmt::format("{} is not an extension ratio in [1, 10^6]", t.scale));
  if (t.original_length > 0 && t.target_length > 0 && t.target_length < t.original_length)
    throw table_error(source, "target_length", fmt::format("{} is below the original length {}", t.target_length, t.original_length));
  const bool lengths_known = t.original_length > 0 && t.target_length > 0;
  const double ratio = lengths_known ? static_cast<double>(t.target_length) / static_cast<double>(t.original_length) : 0.0;
  // s sets the attention factor; one that is not L'/L gives a model other than the one searched.
  if (t.scale != 0 && lengths_known && std::fabs(t.scale - ratio) > 1e-6 * ratio)
    throw table_error(source, "scale", fmt::format("{} disagrees with target_length / original_length = {} / {} = {:g}", t.scale,
                                                   t.target_length, t.original_length, ratio));
  t.lambda = number_list(j, "lambda", source, true);
  if (t.lambda.empty()) throw table_error(source, "lambda", "is empty");
  // n̂ counts positions that keep the original angles. The search draws it from the paper's set (up to
  // 256), which on a short-context model exceeds L, so the bound is the target length, not L.
  const int64_t start_limit = t.target_length > 0 ? t.target_length : t.original_length > 0 ? t.original_length : kLongest;
  t.start_tokens = count_field(j, "start_tokens", source, start_limit);
  if (j.contains("attention_factor") && !j["attention_factor"].is_null()) {
    t.attention_factor = field<double>(j, "attention_factor", 1.0, source);
    // It scales the attention logits by its square; LongRoPE's and YaRN's stay below 5 for any extension.
    if (!(*t.attention_factor > 0 && *t.attention_factor <= 10))
      throw table_error(source, "attention_factor", fmt::format("must be a positive number of at most 10, got {}", *t.attention_factor));
  }
  t.short_lambda = number_list(j, "short_lambda", source, false);
  // The search bounds a factor by 1.25·s (1 + s for the reference's bound); far beyond the table's own s
  // is a table of another extension, or no table at all.
  if (const double s = t.scale != 0 ? t.scale : ratio; s > 0)
    for (const auto* list : {&t.lambda, &t.short_lambda})
      for (size_t i = 0; i < list->size(); ++i)
        if ((*list)[i] > kLambdaPerScale * s)
          throw table_error(source, fmt::format("{}[{}]", list == &t.lambda ? "lambda" : "short_lambda", i),
                            fmt::format("{:g} is beyond {:g} × the table's scale s = {:g} (the search bounds a factor by 1.25·s)",
                                        (*list)[i], kLambdaPerScale, s));
  if (t.rotary_dim > 0 && static_cast<int64_t>(t.lambda.size()) * 2 != t.rotary_dim)
    throw table_error(source, "lambda", fmt::format("has {} values but head_dim {} needs {}", t.lambda.size(), t.rotary_dim, t.rotary_dim / 2));
  if (!t.short_lambda.empty() && t.short_lambda.size() != t.lambda.size())
    throw table_error(source, "short_lambda", fmt::format("has {} values, lambda has {}", t.short_lambda.size(), t.lambda.size()));
  static const char* known[] = {"format", "version", "model", "rope_base", "head_dim", "original_length", "target_length",
                                "scale", "lambda", "start_tokens", "attention_factor", "short_lambda"};
  for (const auto& [k, v] : j.items()) {
    bool is_known = false;
    for (const char* name : known) is_known = is_known || k == name;
    if (!is_known) t.details[k] = v;
  }
  return t;
}

std::vector<double> read_factor_csv(const std::string& path) { return parse_factor_csv(read_text(path), path); }

std::vector<double> parse_factor_csv(const std::string& text, const std::string& path) {
  std::istringstream in(text);
  std::vector<double> out;
  std::vector<int> lines;  // the line of each factor
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::stringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) {
      const size_t b = cell.find_first_not_of(" \t\r");
      if (b == std::string::npos) continue;
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(cell.substr(b), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      const std::string rest = cell.substr(b + used);
      if (used == 0 || rest.find_first_not_of(" \t\r") != std::string::npos || !std::isfinite(v) || v <= 0)
        throw std::runtime_error(fmt::format("{}: line {}: '{}' is not a positive number", path, line_no, printable(cell)));
      out.push_back(v);
      lines.push_back(line_no);
    }
  }
  if (out.empty()) throw std::runtime_error(path + ": no factors (expected one number per line)");
  check_lambda_factors(out, [&](size_t i) { return fmt::format("{}: line {}", path, lines[i]); });
  return out;
}

FactorTable read_factor_table(const std::string& path) {
  const bool is_json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (!is_json) {
    FactorTable t;
    t.lambda = read_factor_csv(path);
    return t;
  }
  return factor_table_from_json(formats::read_json_file(path), path);
}

void write_factor_table(const std::string& path, const FactorTable& table) {
  formats::write_file_atomically(path, factor_table_to_json(table).dump(2) + "\n");
}

void write_factor_csv(const std::string& path, const std::vector<double>& lambda) {
  std::string text;
  for (double v : lambda) text += fmt::format("{:.18e}\n", v);
  formats::write_file_atomically(path, text);
}

}  // namespace longrope
