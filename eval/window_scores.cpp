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

// A text field of a row, or "" when absent; another type is named by its field, not nlohmann's words.
std::string text_field(const json& row, const char* key, const std::string& file, const std::string& field) {
  if (!row.is_object() || !row.contains(key)) return "";
  if (!row[key].is_string()) throw score_error(file, fmt::format("field '{}': expected text, got {}", field, row[key].dump()));
  return row[key].get<std::string>();
}

// eval and curve: results[] of {method, [length], documents|windows: [{name, mean_nll}]}. Every length
// of the method when `every_length`; else the one row that matches.
WindowScores from_results(const json& j, const std::string& file, const std::string& method,
                          const std::optional<std::pair<int64_t, int64_t>>& lengths, bool every_length) {
  std::vector<std::string> held;
  std::vector<const json*> chosen;
  // An eval's rows share the file's one length; a curve's rows carry their own.
  const std::optional<int64_t> file_length =
      j.contains("length") && j["length"].is_number_integer() ? std::optional<int64_t>(j["length"].get<int64_t>()) : std::nullopt;
  for (const json& r : j.at("results")) {
    const std::optional<int64_t> length = r.contains("length") ? std::optional<int64_t>(r["length"].get<int64_t>()) : file_length;
    const std::string row_method = text_field(r, "method", file, "results.method");
    const std::string name = row_method + (length ? fmt::format("@{}", *length) : "");
    held.push_back(name);
    const bool same_method = method.empty() || row_method == method;
    const bool same_length = !lengths || (length && *length >= lengths->first && *length <= lengths->second);
    if (same_method && same_length) chosen.push_back(&r);
  }
  if (chosen.empty()) {
    const std::string asked = lengths && lengths->first == lengths->second ? fmt::format("{}@{}", method, lengths->first) : method;
    throw score_error(file, fmt::format("no result for '{}' (it holds {})", asked, fmt::join(held, ", ")));
  }
  if (chosen.size() > 1 && !every_length)
    throw score_error(file, fmt::format("holds several results for '{}' ({}): name one as FILE:METHOD[@LENGTH], or all as "
                                        "FILE:METHOD@*", method, fmt::join(held, ", ")));
  WindowScores s;
  for (const json* row : chosen) {
    const char* key = row->contains("windows") ? "windows" : "documents";
    if (!row->contains(key) || !(*row)[key].is_array())
      throw score_error(file, "field 'documents': per-window scores missing (written by an older longrope?)");
    for (const json& w : (*row)[key]) {
      // Several lengths of one method: a window at each length is its own window. One length: the plain
      // name, so that it pairs with an eval of the same windows at that length.
      const std::string at = chosen.size() > 1 && row->contains("length") ? fmt::format("#{}", (*row)["length"].get<int64_t>()) : "";
      s.windows.push_back(text_field(w, "name", file, std::string(key) + ".name") + at);
      s.nll.push_back(nll_of(w.value("mean_nll", json()), file, std::string(key) + ".mean_nll"));
    }
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
  std::optional<std::pair<int64_t, int64_t>> lengths;  // [from, to]; unset: every row of the method
  bool every_length = false;
  // The file is the first prefix before a colon that names one (a method may hold colons: table:T.json).
  for (size_t colon = spec.find(':'); !std::filesystem::exists(spec) && colon != std::string::npos; colon = spec.find(':', colon + 1)) {
    if (!std::filesystem::is_regular_file(spec.substr(0, colon))) continue;
    file = spec.substr(0, colon);
    method = spec.substr(colon + 1);
    const size_t at = method.rfind('@');
    const std::string range = at == std::string::npos ? "" : method.substr(at + 1);
    const size_t dash = range.find('-');
    const auto count = [](const std::string& t) { return !t.empty() && t.size() < 13 && t.find_first_not_of("0123456789") == std::string::npos; };
    if (range == "*") {
      every_length = true;
    } else if (count(range)) {
      lengths = std::make_pair(std::stoll(range), std::stoll(range));
    } else if (dash != std::string::npos && count(range.substr(0, dash)) && count(range.substr(dash + 1))) {
      lengths = std::make_pair(std::stoll(range.substr(0, dash)), std::stoll(range.substr(dash + 1)));
      every_length = true;
    } else {
      break;  // no length: the '@' belongs to the method
    }
    method = method.substr(0, at);
    break;
  }
  const json j = formats::read_json_file(file);
  WindowScores s;
  try {
    if (j.is_object() && j.contains("results")) s = from_results(j, file, method, lengths, every_length);
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
