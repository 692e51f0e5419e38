// The kinds of failure and the exit codes `longrope` gives them. Every message is one line that
// names what it is about: a file and its field, or a setting and its value.
//   UsageError      a command line that cannot run (unknown option, contradicting options). Thrown by
//                   cli/ only. Exit 2.
//   InvalidSetting  a value the library cannot use (a population of 0, a probability of 2). Names the
//                   setting as the library calls it; the CLI names its own option instead. Exit 2.
//   anything else   bad data (formats::FormatError and other std::runtime_errors naming a file),
//                   or a failure while running (out of memory, a CUDA error). Exit 1.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace longrope {

class UsageError : public std::invalid_argument {
 public:
  explicit UsageError(const std::string& message) : std::invalid_argument(message) {}
};

class InvalidSetting : public std::invalid_argument {
 public:
  // what() is "setting: problem", e.g. "parents: 9 exceeds the population (4)".
  InvalidSetting(std::string setting, const std::string& problem)
      : std::invalid_argument(setting + ": " + problem), setting_(std::move(setting)), problem_(problem) {}
  const std::string& setting() const { return setting_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string setting_;
  std::string problem_;
};

}  // namespace longrope
