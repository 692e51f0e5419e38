// FormatError: the one exception type for unreadable or malformed model files.
#pragma once

#include <stdexcept>
#include <string>

namespace longrope::formats {

// Messages are one line, "FILE: field/tensor/key: problem", so a user can find the bad byte
// range without a debugger.
class FormatError : public std::runtime_error {
 public:
  explicit FormatError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace longrope::formats
