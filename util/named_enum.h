// Enums with names: each mode is parsed from its name once, at the edge (options, files), and
// printed from the same table, so a name is spelled in one place.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace longrope {

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

// The value named `text`; several names may map to one value (aliases), the first is its own name.
template <typename E, size_t N>
std::optional<E> enum_from_name(const std::array<EnumName<E>, N>& names, std::string_view text) {
  for (const EnumName<E>& n : names)
    if (n.name == text) return n.value;
  return std::nullopt;
}

template <typename E, size_t N>
std::string_view enum_name(const std::array<EnumName<E>, N>& names, E value) {
  for (const EnumName<E>& n : names)
    if (n.value == value) return n.name;
  return "?";
}

// "a, b or c": every value's own name (aliases left out), for messages and --help.
template <typename E, size_t N>
std::string enum_choices(const std::array<EnumName<E>, N>& names) {
  std::string out;
  size_t count = 0;
  for (size_t i = 0; i < N; ++i) {
    bool alias = false;
    for (size_t j = 0; j < i; ++j) alias = alias || names[j].value == names[i].value;
    if (alias) continue;
    if (count > 0) out += ", ";
    out += names[i].name;
    ++count;
  }
  const size_t last = out.rfind(", ");
  if (last != std::string::npos) out.replace(last, 2, " or ");
  return out;
}

}  // namespace longrope
