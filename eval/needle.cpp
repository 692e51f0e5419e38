// Needles into windows.
#include "eval/needle.h"

#include <fmt/format.h>

#include "util/errors.h"
#include "util/splitmix64.h"

namespace longrope {

std::vector<Document> needle_documents(const EvaluationSetup& setup, const std::vector<Document>& windows, uint64_t seed) {
  std::vector<Document> out;
  uint64_t state = seed;
  const std::vector<int32_t> question = setup.encode_text(" What is the special magic number? The special magic number is");
  for (size_t i = 0; i < windows.size(); ++i) {
    const int64_t number = 10000 + static_cast<int64_t>(splitmix64(state) % 90000);  // five digits, as the paper's passkeys
    const std::vector<int32_t> needle = setup.encode_text(fmt::format(" The special magic number is {}. ", number));
    const std::vector<int32_t> answer = setup.encode_text(fmt::format(" {}", number));
    const std::vector<int32_t>& text = windows[i].tokens;
    const auto fixed = static_cast<int64_t>(needle.size() + question.size() + answer.size());
    const int64_t body = static_cast<int64_t>(text.size()) - fixed;
    if (body < fixed)
      throw InvalidSetting("objective", fmt::format("a window of {} tokens cannot hold a needle, its question and answer ({} tokens) "
                                                    "with text around them", text.size(), fixed));
    const double depth = (static_cast<double>(i) + 0.5) / static_cast<double>(windows.size());
    const auto at = static_cast<int64_t>(depth * static_cast<double>(body));
    Document d{fmt::format("{}+needle@{:.2f}", windows[i].name, depth), {}, static_cast<int64_t>(answer.size())};
    d.tokens.insert(d.tokens.end(), text.begin(), text.begin() + at);
    d.tokens.insert(d.tokens.end(), needle.begin(), needle.end());
    d.tokens.insert(d.tokens.end(), text.begin() + at, text.begin() + body);
    d.tokens.insert(d.tokens.end(), question.begin(), question.end());
    d.tokens.insert(d.tokens.end(), answer.begin(), answer.end());
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace longrope
