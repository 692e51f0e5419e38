// Reading the window scores of eval, curve and search files.
#include "eval/window_scores.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "formats/json_file.h"

namespace longrope {
namespace {

using nlohmann::json;

std::runtime_error score_error(const std::string& file, const std::string& what) { return std::runtime_error(file + ": " + what); }

double nll_of(const json& v, const std::string& file, const std::string& field) {
  if (v.is_number() && std::isfinite(v.get<double>())) return v.get<double>();
  throw score_error(file, fmt::format("field '{}': expected a finite NLL, got {}", field, v.dump()));
}

// eval and curve: results[] of {method, [length], documents|windows: [{name, mean_nll}]}.
WindowScores from_results(const json& j, const std::string& file, const std::string& method, const std::optional<int64_t>& length) {
  std::vector<std::string> held;
  const json* chosen = nullptr;
  for (const json& r : j.at("results")) {
    const std::string name = r.value("method", std::string()) + (r.contains("length") ? fmt::format("@{}", r["length"].get<int64_t>()) : "");
    held.push_back(name);
    const bool same_method = method.empty() || r.value("method", std::string()) == method;
    const bool same_length = !length || (r.contains("length") && r["length"].get<int64_t>() == *length);
    if (same_method && same_length) {
      if (chosen) throw score_error(file, fmt::format("holds several results for '{}' ({}): name one as FILE:METHOD[@LENGTH]",
                                                      method, fmt::join(held, ", ")));
      chosen = &r;
    }
  }
  if (!chosen) throw score_error(file, fmt::format("no result for '{}' (it holds {})", method, fmt::join(held, ", ")));
  const char* key = chosen->contains("windows") ? "windows" : "documents";
  if (!chosen->contains(key) || !(*chosen)[key].is_array())
    throw score_error(file, "field 'documents': per-window scores missing (written by an older longrope?)");
  WindowScores s;
  for (const json& w : (*chosen)[key]) {
    s.windows.push_back(w.value("name", std::string()));
    s.nll.push_back(nll_of(w.value("mean_nll", json()), file, std::string(key) + ".mean_nll"));
  }
  return s;
}

// search: {key, ppl, window_nll: {method: [...]}, windows: [names]} (names since this version).
WindowScores from_method_scores(const json& j, const std::string& file, const std::string& method) {
  const json& all = j.at("window_nll");
  std::vector<std::string> held;
  for (const auto& [m, v] : all.items()) held.push_back(m);
  const std::string chosen = method.empty() && held.size() == 1 ? held.front() : method;
  if (!all.contains(chosen)) throw score_error(file, fmt::format("no scores for '{}' (it holds {})", chosen, fmt::join(held, ", ")));
  WindowScores s;
  for (const json& v : all[chosen]) s.nll.push_back(nll_of(v, file, "window_nll." + chosen));
  if (j.contains("windows")) s.windows = j["windows"].get<std::vector<std::string>>();
  if (!s.windows.empty() && s.windows.size() != s.nll.size())
    throw score_error(file, fmt::format("field 'windows': {} names for {} scores", s.windows.size(), s.nll.size()));
  return s;
}

}  // namespace

WindowScores read_window_scores(const std::string& spec) {
  std::string file = spec, method;
  std::optional<int64_t> length;
  const size_t colon = spec.rfind(':');
  if (!std::filesystem::exists(spec) && colon != std::string::npos) {
    file = spec.substr(0, colon);
    method = spec.substr(colon + 1);
    const size_t at = method.rfind('@');
    if (at != std::string::npos && at + 1 < method.size() && method.find_first_not_of("0123456789", at + 1) == std::string::npos) {
      length = std::stoll(method.substr(at + 1));
      method = method.substr(0, at);
    }
  }
  const json j = formats::read_json_file(file);
  WindowScores s;
  try {
    if (j.is_object() && j.contains("results")) s = from_results(j, file, method, length);
    else if (j.is_object() && j.contains("window_nll")) s = from_method_scores(j, file, method);
    else throw score_error(file, "not an eval, curve or search score file (no 'results' or 'window_nll')");
  } catch (const json::exception& e) {
    throw score_error(file, std::string("malformed: ") + e.what());
  }
  s.source = spec;
  s.file = file;
  return s;
}

}  // namespace longrope
