#include "util/token_count.h"

#include <cctype>

namespace longrope {

std::optional<int64_t> parse_token_count(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 13) return std::nullopt;  // 13 digits hold 2^40; more would overflow below
  const std::string suffix = text.substr(digits);
  const int64_t unit = suffix.empty() ? 1 : suffix == "k" || suffix == "K" ? 1024 : suffix == "m" || suffix == "M" ? 1024 * 1024 : 0;
  if (unit == 0) return std::nullopt;
  const int64_t value = std::stoll(text.substr(0, digits));
  if (value <= 0 || value > (int64_t{1} << 40) / unit) return std::nullopt;
  return value * unit;
}

}  // namespace longrope
