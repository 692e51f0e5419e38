// JSON files with errors that name them.
#include "formats/json_file.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "formats/input_file.h"

namespace longrope::formats {

nlohmann::json parse_json_text(const std::string& text, const std::string& source) {
  using json = nlohmann::json;
  std::set<std::string> keys;  // nlohmann keeps the last of two equal keys: refuse the ambiguity
  const auto refuse_duplicates = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && !keys.insert(parsed.get<std::string>()).second)
      throw std::runtime_error(fmt::format("{}: field '{}': given twice", source, parsed.get<std::string>()));
    return true;
  };
  try {
    return json::parse(text, refuse_duplicates);
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
}

nlohmann::json read_json_file(const std::string& path) { return parse_json_text(read_regular_file(path), path); }

}  // namespace longrope::formats
