// Shared CLI helpers.
#include "cli/cli_util.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace longrope {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

int64_t parse_length(const std::string& text, const std::string& option) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("{}: '{}' is not a length (e.g. 2048, 4k)", option, text));
  }
  const std::string suffix = text.substr(used);
  if (suffix == "k" || suffix == "K") v *= 1024;
  else if (suffix == "m" || suffix == "M") v *= 1024 * 1024;
  else if (!suffix.empty()) throw std::invalid_argument(fmt::format("{}: '{}' is not a length (e.g. 2048, 4k)", option, text));
  if (v <= 0) throw std::invalid_argument(fmt::format("{}: length must be positive, got '{}'", option, text));
  return v;
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
}

std::string tokenize_exe_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "longrope-tokenize";
  buf[n] = 0;
  return (std::filesystem::path(buf).parent_path() / "longrope-tokenize").string();
}

}  // namespace longrope
