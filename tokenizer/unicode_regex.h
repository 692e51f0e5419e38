// UnicodeRegex: a PCRE2 pattern over UTF-8 with Unicode properties, iterated the way Hugging Face
// tokenizers iterates its (Oniguruma) regexes, so that pre-tokenizer splits come out the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pcre2_real_code_8;  // pcre2.h stays out of this header

namespace longrope {

// Compiled with UTF and UCP (\p{L}, \p{N}, \s and \d are Unicode-aware) and MULTILINE (^ and $ match
// at line breaks, as in Oniguruma's default Ruby syntax). Character classes follow PCRE2's Unicode
// tables (Unicode 14 for PCRE2 10.42) where tokenizers' Oniguruma has newer ones: code points
// assigned since then, and U+180E (a space to PCRE2, not to Oniguruma), may split differently.
// \w is PCRE2's (letters, numbers, underscore), which leaves out combining marks; tokenizers'
// GPT-2 and Llama-3 patterns do not use it.
// Immutable and thread-safe: match state is allocated per call.
class UnicodeRegex {
 public:
  // Throws std::invalid_argument "regex 'PATTERN': MESSAGE at offset N".
  static UnicodeRegex compile(const std::string& pattern);
  // Matches `text` itself, every character literal (Split's {"String": ...} patterns).
  static UnicodeRegex literal(const std::string& text);

  // [begin, end) byte ranges of the successive leftmost matches in `text`, which must be valid
  // UTF-8 (see invalid_utf8_offset). An empty match counts unless it sits where the previous
  // match ended; the search then moves on one character (Oniguruma's find_iter).
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  UnicodeRegex(std::string pattern, uint32_t options);

  std::string pattern_;
  std::shared_ptr<pcre2_real_code_8> code_;
};

// Byte offset of the first byte of `text` that is not part of well-formed UTF-8 (overlong forms,
// surrogates and code points past U+10FFFF are ill-formed), or std::string_view::npos.
size_t invalid_utf8_offset(std::string_view text);

// Length in bytes of the UTF-8 character that starts with `lead` (1 for a stray continuation byte).
inline size_t utf8_length(unsigned char lead) { return lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4; }

}  // namespace longrope
