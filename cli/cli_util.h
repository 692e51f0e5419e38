// Small helpers the commands share: list, length and number parsing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/errors.h"

namespace longrope {

std::vector<std::string> split_list(const std::string& text);  // "a,b,,c" -> {a, b, c}
// "2048", "4k" (4096), "1m" (1048576); throws UsageError naming `option`.
int64_t parse_length(const std::string& text, const std::string& option);
// A finite decimal number, all of `text`; throws UsageError naming `option`.
double parse_number(const std::string& text, const std::string& option);

}  // namespace longrope
