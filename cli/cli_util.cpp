// Shared CLI helpers.
#include "cli/cli_util.h"

#include <boost/program_options/errors.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <new>
#include <regex>
#include <sstream>

#include "util/token_count.h"

namespace longrope {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t begin = item.find_first_not_of(" \t"), end = item.find_last_not_of(" \t");
    if (begin != std::string::npos) out.push_back(item.substr(begin, end - begin + 1));  // "pi, ntk" is pi and ntk
  }
  return out;
}

std::vector<std::string> split_option_list(const std::string& text, const std::string& option) {
  std::vector<std::string> items;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) items.push_back(item);
  if (!text.empty() && text.back() == ',') items.emplace_back();
  for (const std::string& i : items)
    if (i.find_first_not_of(" \t") == std::string::npos)
      throw UsageError(fmt::format("{}: '{}' has an empty item", option, text));
  return split_list(text);
}

std::vector<int64_t> parse_lengths(const std::string& text, const std::string& option) {
  std::vector<int64_t> lengths;
  for (const std::string& item : split_option_list(text, option)) {
    const int64_t length = parse_length(item, option);
    if (std::find(lengths.begin(), lengths.end(), length) != lengths.end())
      throw UsageError(fmt::format("{}: {} is given twice", option, length));
    lengths.push_back(length);
  }
  return lengths;
}

int64_t parse_length(const std::string& text, const std::string& option) {
  const std::optional<int64_t> count = parse_token_count(text);
  if (!count) throw UsageError(fmt::format("{}: '{}' is not a length (a positive count such as 2048, 4k or 1m, at most 2^40)", option, text));
  return *count;
}

std::vector<std::string> prefixed_outputs(const std::string& prefix, const std::string& option,
                                          const std::vector<std::string>& extensions) {
  const std::string name = std::filesystem::path(prefix).filename().string();
  if (name.empty() || name == "." || name == "..")  // "sub/" would write sub/.csv, hidden
    throw UsageError(fmt::format("{} {}: a prefix names files ({}NAME.csv): it must end in a file name, not '/'", option, prefix, prefix));
  const std::string ext = std::filesystem::path(prefix).extension().string();
  if (ext == ".csv" || ext == ".json")
    throw UsageError(fmt::format("{} {} is a prefix: it would write {}.csv and {}.json; give it without {}", option, prefix, prefix,
                                 prefix, ext));
  std::vector<std::string> out;
  for (const std::string& e : extensions) out.push_back(prefix + e);
  return out;
}

uint64_t parse_seed(int64_t seed, const std::string& option) {
  if (seed < 0) throw UsageError(fmt::format("{} must be >= 0, got {}", option, seed));
  return static_cast<uint64_t>(seed);
}

double parse_number(const std::string& text, const std::string& option) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const bool hex = text.find_first_of("xX") != std::string::npos;  // std::stod reads 0x10 as 16: numbers are decimal here
  if (used == 0 || used != text.size() || !std::isfinite(v) || hex)
    throw UsageError(fmt::format("{}: '{}' is not a number", option, text));
  return v;
}

namespace {

// The option a library setting is given by: its name with dashes (race_margin → --race-margin),
// except where the option is spelled otherwise.
std::string option_for(const std::string& setting) {
  static const std::vector<std::pair<std::string, std::string>> renamed = {
      {"hidden_size", "--hidden"},       {"num_layers", "--layers"},          {"num_heads", "--heads"},
      {"num_kv_heads", "--kv-heads"},    {"intermediate_size", "--intermediate"}, {"batch_size", "--batch"},
      {"warmup_steps", "--warmup"},      {"mutation_probability", "--mutation-prob"}, {"short_table", "--short"},
      {"out", "--out"},                  {"from_config", "--from config"},
  };
  for (const auto& [name, option] : renamed)
    if (name == setting) return option;
  std::string option = "--" + setting;
  for (char& c : option)
    if (c == '_') c = '-';
  return option;
}

// nlohmann's messages open with "[json.exception.parse_error.101] ", a tag for its own documentation:
// the file and field the message names are what the user needs.
std::string without_library_tags(std::string text) {
  static const std::regex tag(R"(\[json\.exception\.[a-z_]+\.[0-9]+\] )");
  static const std::regex filesystem(R"(filesystem error: )");  // std::filesystem's, caught and passed on as text
  return std::regex_replace(std::regex_replace(text, tag, ""), filesystem, "");
}

}  // namespace

ErrorReport describe_error(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const boost::program_options::error& e) {
    return {e.what(), 2, true};
  } catch (const UsageError& e) {
    return {e.what(), 2, false};
  } catch (const InvalidSetting& e) {
    return {option_for(e.setting()) + ": " + e.problem(), 2, false};
  } catch (const std::bad_alloc&) {  // its what() is the type's name
    return {"error: out of memory: a size asked for more than this machine has", 1, false};
  } catch (const std::filesystem::filesystem_error& e) {
    // Its what() is "filesystem error: <operation>: <reason> [path]": the path first, as every other line.
    const std::string path = e.path1().empty() ? "" : e.path1().string() + ": ";
    return {"error: " + path + e.code().message(), 1, false};
  } catch (const std::exception& e) {
    const std::string what = e.what();  // c10::Error carries a backtrace after the first line
    return {"error: " + without_library_tags(what.substr(0, what.find('\n'))), 1, false};
  } catch (...) {
    return {"error: unknown exception", 1, false};
  }
}

}  // namespace longrope
