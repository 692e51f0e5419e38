// Token counts as people write them: "2048", "4k" (4096), "1m" (1048576).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace longrope {

// The count `text` names, when it is a positive whole number with an optional k/K or m/M suffix and
// at most 2^40; nullopt otherwise (the caller names the option or setting in its message).
std::optional<int64_t> parse_token_count(const std::string& text);

}  // namespace longrope
