// Small helpers the commands share: list, length and number parsing.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "util/errors.h"

namespace longrope {

std::vector<std::string> split_list(const std::string& text);  // "a, b,,c" -> {a, b, c}
// An option's list: split_list, but an empty item ("64,,128": a value lost in editing) is refused
// naming `option` (UsageError).
std::vector<std::string> split_option_list(const std::string& text, const std::string& option);
// --lengths: distinct lengths (parse_length each), none empty; UsageError naming `option`.
std::vector<int64_t> parse_lengths(const std::string& text, const std::string& option);
// "2048", "4k" (4096), "1m" (1048576); throws UsageError naming `option`.
int64_t parse_length(const std::string& text, const std::string& option);
// The files PREFIX.csv, PREFIX.json, ... a command with an output prefix writes. Throws UsageError when
// the prefix itself ends in .csv or .json (PREFIX.json.json is never what was meant).
std::vector<std::string> prefixed_outputs(const std::string& prefix, const std::string& option,
                                          const std::vector<std::string>& extensions);

// A seed as given (a signed option, so that -1 is not read as 2^64 − 1); throws UsageError if negative.
uint64_t parse_seed(int64_t seed, const std::string& option);

// A finite decimal number, all of `text`; throws UsageError naming `option`.
double parse_number(const std::string& text, const std::string& option);

// How an error is told to the user: one line (a c10::Error's backtrace cut off), its exit code (2 for
// bad options and settings, 1 for the rest), and whether --help would help.
struct ErrorReport {
  std::string line;
  int exit_code = 1;
  bool see_help = false;
};
ErrorReport describe_error(std::exception_ptr error);

}  // namespace longrope
