// Parsing and printing the modes that are more than a name.
#include "search/search_modes.h"

#include <fmt/format.h>

namespace longrope {
namespace {

bool is_count(const std::string& t) { return !t.empty() && t.size() <= 6 && t.find_first_not_of("0123456789") == std::string::npos; }

}  // namespace

ValidationChoice ValidationChoice::parse(const std::string& text) {
  if (text.empty()) throw InvalidSetting("validation", "auto, none or a directory of documents");
  if (text == "auto") return {Kind::Auto, ""};
  if (text == "none") return {Kind::None, ""};
  return {Kind::Directory, text};
}

std::string ValidationChoice::text() const { return kind == Kind::Auto ? "auto" : kind == Kind::None ? "none" : directory; }

CriticalDim CriticalDim::parse(const std::string& text) {
  if (text == "none") return {Kind::None, 0};
  if (text == "auto") return {Kind::Auto, 0};
  if (text.rfind("auto-", 0) == 0 && is_count(text.substr(5))) return {Kind::BelowAuto, std::stoll(text.substr(5))};
  if (is_count(text)) return {Kind::Index, std::stoll(text)};
  throw InvalidSetting("critical_dim", fmt::format("'{}' is not none, auto, auto-K or a pair index", text));
}

std::string CriticalDim::text() const {
  switch (kind) {
    case Kind::None: return "none";
    case Kind::Auto: return "auto";
    case Kind::BelowAuto: return fmt::format("auto-{}", value);
    case Kind::Index: return std::to_string(value);
  }
  return "?";
}

}  // namespace longrope
