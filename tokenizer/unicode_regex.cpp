// UnicodeRegex over PCRE2 (8-bit code units, JIT where the platform has it).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/unicode_regex.h"

#include <pcre2.h>

#include <optional>
#include <stdexcept>

namespace longrope {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  return pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0 ? "error " + std::to_string(code)
                                                                   : reinterpret_cast<const char*>(buffer);
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

}  // namespace

UnicodeRegex::UnicodeRegex(std::string pattern, uint32_t options) : pattern_(std::move(pattern)) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(), options | PCRE2_UTF,
                                   &error, &offset, nullptr);
  if (!code)
    throw std::invalid_argument("regex '" + pattern_ + "': " + pcre2_message(error) + " at offset " +
                                std::to_string(offset));
  // Without JIT support pcre2_match interprets the pattern: slower, same matches.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_.reset(code, pcre2_code_free);
}

UnicodeRegex UnicodeRegex::compile(const std::string& pattern) {
  return UnicodeRegex(pattern, PCRE2_UCP | PCRE2_MULTILINE);
}

// PCRE2 refuses UCP with LITERAL; a literal needs no character classes anyway.
UnicodeRegex UnicodeRegex::literal(const std::string& text) { return UnicodeRegex(text, PCRE2_LITERAL); }

std::vector<std::pair<size_t, size_t>> UnicodeRegex::find_all(std::string_view text) const {
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(pcre2_match_data_create_from_pattern(code_.get(), nullptr));
  if (!data) throw std::bad_alloc();
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::vector<std::pair<size_t, size_t>> matches;
  size_t search_from = 0;
  std::optional<size_t> previous_end;
  while (search_from <= text.size()) {
    int rc = pcre2_match(code_.get(), subject, text.size(), search_from, PCRE2_NO_UTF_CHECK, data.get(), nullptr);
    // The JIT's fixed stack can run out on long backtracking (e.g. \s+(?!\S) over a huge run of
    // spaces); the interpreter keeps its frames on the heap.
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
      rc = pcre2_match(code_.get(), subject, text.size(), search_from, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, data.get(),
                       nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) throw std::runtime_error("regex '" + pattern_ + "': matching failed: " + pcre2_message(rc));
    const PCRE2_SIZE* range = pcre2_get_ovector_pointer(data.get());
    const size_t begin = range[0], end = range[1];
    if (begin == end && previous_end == end) {
      search_from += search_from < text.size() ? utf8_length(static_cast<unsigned char>(text[search_from])) : 1;
      continue;
    }
    matches.emplace_back(begin, end);
    search_from = end;
    previous_end = end;
  }
  return matches;
}

size_t invalid_utf8_offset(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code_point;
    if (lead >= 0xC2 && lead <= 0xDF)
      length = 2, code_point = lead & 0x1F;
    else if (lead >= 0xE0 && lead <= 0xEF)
      length = 3, code_point = lead & 0x0F;
    else if (lead >= 0xF0 && lead <= 0xF4)
      length = 4, code_point = lead & 0x07;
    else
      return i;  // continuation byte, C0/C1 (overlong) or F5..FF
    if (n - i < length) return i;
    for (size_t k = 1; k < length; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return i;
      code_point = (code_point << 6) | (bytes[i + k] & 0x3F);
    }
    const bool overlong = (length == 3 && code_point < 0x800) || (length == 4 && code_point < 0x10000);
    if (overlong || (code_point >= 0xD800 && code_point <= 0xDFFF) || code_point > 0x10FFFF) return i;
    i += length;
  }
  return std::string_view::npos;
}

}  // namespace longrope
