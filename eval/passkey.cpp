// Prompts, greedy decoding with a KV cache, and scoring.
#include "eval/passkey.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include <chrono>

#include "util/errors.h"
#include "util/progress.h"
#include "util/splitmix64.h"

namespace longrope {
namespace {

const char kTask[] =
    "There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the "
    "important information there.";
const char kFiller[] = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";
const char kQuestion[] = "What is the pass key? The pass key is";

int64_t uniform(uint64_t& state, int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(hi - lo + 1)); }

// The first `chars` characters of the filler repeated (sentences joined by a space).
std::string filler(int64_t chars) {
  std::string out;
  while (static_cast<int64_t>(out.size()) < chars) out += std::string(kFiller) + " ";
  out.resize(static_cast<size_t>(chars));
  return out;
}

// The most filler whose prompt (with BOS) still fits `length` tokens, less a margin for the split.
int64_t filler_for(const EvaluationSetup& setup, int64_t length) {
  const int64_t bos = setup.bos() ? 1 : 0, margin = 8;
  uint64_t probe = 0;
  auto tokens = [&](int64_t chars) {
    probe = 1;  // any split: its token count moves by a token or two at most
    return static_cast<int64_t>(setup.encode_text(passkey_prompt(chars, probe).text).size()) + bos;
  };
  if (tokens(0) > length - margin)
    throw InvalidSetting("lengths", fmt::format("{} tokens cannot hold the passkey prompt itself ({} tokens)", length, tokens(0)));
  int64_t lo = 0, hi = 1;
  while (tokens(hi) <= length - margin) lo = hi, hi *= 2;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (tokens(mid) <= length - margin ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace

PasskeyPrompt passkey_prompt(int64_t filler_chars, uint64_t& rng_state) {
  PasskeyPrompt p;
  p.depth = uniform(rng_state, 0, filler_chars);
  p.passkey = uniform(rng_state, 1, 50000);
  const std::string information = fmt::format("The pass key is {0}. Remember it. {0} is the pass key.", p.passkey);
  // As the reference: the text before the information line is the filler's first `depth` characters,
  // the text after it the filler's first remaining ones.
  p.text = fmt::format("{}\n{}\n{}\n{}\n{}", kTask, filler(p.depth), information, filler(filler_chars - p.depth), kQuestion);
  return p;
}

std::optional<int64_t> first_integer(const std::string& text) {
  const size_t begin = text.find_first_of("0123456789");
  if (begin == std::string::npos) return std::nullopt;
  const size_t end = text.find_first_not_of("0123456789", begin);
  const std::string digits = text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  if (digits.size() > 18) return std::nullopt;
  return std::stoll(digits);
}

void PasskeyOptions::validate() const {
  if (lengths.empty()) throw InvalidSetting("lengths", "no length given");
  // A passkey is a few tokens, and an accuracy needs far fewer than a million prompts: beyond these,
  // a typo that would decode or prompt for days.
  if (samples < 1 || samples > 1000000) throw InvalidSetting("samples", fmt::format("must be in [1, 10^6], got {}", samples));
  if (new_tokens < 1 || new_tokens > 4096) throw InvalidSetting("new_tokens", fmt::format("must be in [1, 4096], got {}", new_tokens));
}

std::vector<PasskeyRow> passkey_accuracy(const EvaluationSetup& setup, const std::vector<NamedScaling>& methods,
                                         const PasskeyOptions& options, const std::function<void(const PasskeyRow&)>& on_row) {
  options.validate();
  if (methods.empty()) throw InvalidSetting("method", "no method given");
  const LlamaModel& model = setup.model();
  std::vector<PasskeyRow> rows;
  Progress progress("passkey", options.lengths.size() * methods.size() * static_cast<size_t>(options.samples));
  size_t done = 0;
  for (int64_t length : options.lengths) {
    // The same prompts for every method: drawn once per length, from the seed and the length.
    const int64_t chars = filler_for(setup, length);
    uint64_t rng = options.seed ^ (static_cast<uint64_t>(length) * 0x9e3779b97f4a7c15ull);
    std::vector<PasskeyPrompt> prompts;
    std::vector<std::vector<int32_t>> prompt_ids;
    std::vector<int64_t> depth_tokens;
    for (int s = 0; s < options.samples; ++s) {
      prompts.push_back(passkey_prompt(chars, rng));
      std::vector<int32_t> ids = setup.encode_text(prompts.back().text);
      if (setup.bos()) ids.insert(ids.begin(), static_cast<int32_t>(*setup.bos()));
      const std::string before = prompts.back().text.substr(0, prompts.back().text.find("The pass key is"));
      depth_tokens.push_back(static_cast<int64_t>(setup.encode_text(before).size()));
      prompt_ids.push_back(std::move(ids));
    }
    for (const NamedScaling& method : methods) {
      PasskeyRow row{length, method.name, 0, {}, 0};
      const auto start = std::chrono::steady_clock::now();
      for (int s = 0; s < options.samples; ++s) {
        const std::vector<int32_t>& ids = prompt_ids[static_cast<size_t>(s)];
        const int64_t total = static_cast<int64_t>(ids.size()) + options.new_tokens;
        const RopeTable rope = build_rope_table(model.rope_geometry(), method.at_length(setup.config(), total), total,
                                                model.device(), model.dtype());
        c10::InferenceMode guard;
        KvCache cache;
        at::Tensor input = at::tensor(at::ArrayRef<int32_t>(ids)).to(at::kLong).unsqueeze(0);
        std::vector<int32_t> generated;
        for (int step = 0; step < options.new_tokens; ++step) {
          const at::Tensor hidden = model.hidden_states(input, rope, cache);
          const auto next_id = static_cast<int32_t>(model.logits(hidden.slice(1, -1)).argmax(-1).item<int64_t>());
          if (setup.config().eos_token_id && next_id == *setup.config().eos_token_id) break;
          generated.push_back(next_id);
          input = at::full({1, 1}, next_id, at::kLong);
        }
        PasskeySample sample;
        sample.prompt_tokens = static_cast<int64_t>(ids.size());
        sample.passkey = prompts[static_cast<size_t>(s)].passkey;
        sample.depth_tokens = depth_tokens[static_cast<size_t>(s)];
        sample.answer = setup.decode_ids(generated);
        sample.correct = first_integer(sample.answer) == sample.passkey;
        row.correct += sample.correct ? 1 : 0;
        row.samples.push_back(sample);
        progress.update(++done, fmt::format("{} @ {}: {}/{}", method.name, length, row.correct, s + 1));
      }
      row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rows.push_back(row);
      if (on_row) on_row(rows.back());
    }
  }
  progress.finish();
  return rows;
}

}  // namespace longrope
