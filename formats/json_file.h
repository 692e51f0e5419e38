// Reading a JSON file whole, with every error naming the file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace longrope::formats {

// Throws std::runtime_error "PATH: cannot open", "PATH: not valid JSON: ..." (a number out of
// double's range, like 1e999, is invalid JSON here) or "PATH: field 'K': given twice" (a duplicate
// top-level key, which JSON readers resolve differently).
nlohmann::json read_json_file(const std::string& path);
// The same for text already read; `source` names it.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

}  // namespace longrope::formats
