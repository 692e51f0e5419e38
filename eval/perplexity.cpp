// Perplexity over documents, with the LM head and cross-entropy in chunks.
#include "eval/perplexity.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "models/forward_profile.h"
#include "util/errors.h"

namespace longrope {

at::Tensor chunked_nll_sum(const at::Tensor& hidden, const at::Tensor& targets, const at::Tensor& head, int64_t chunk) {
  const int64_t n = hidden.size(1), b = hidden.size(0), vocab = head.size(0);
  const auto wide = at::promote_types(hidden.scalar_type(), at::kFloat);
  at::Tensor total = at::zeros({b}, hidden.options().dtype(at::kDouble));
  // Without autograd and in float32 or wider, the logits and log-probabilities of every block go to two
  // buffers made once: a fresh (B, chunk, V) tensor per block comes as fresh pages from the kernel,
  // faulted in and zeroed each time, which cost a fifth of the LM head and loss (results/performance.md, section 1).
  const bool into_buffers = hidden.scalar_type() == wide && head.scalar_type() == wide &&
                            !(at::GradMode::is_enabled() && (hidden.requires_grad() || head.requires_grad()));
  at::Tensor logits_buffer, logp_buffer;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    at::Tensor logits, logp;
    {
      StageTimer timer("lm head", 2.0 * b * (end - begin) * vocab * head.size(1));
      if (into_buffers) {
        if (!logits_buffer.defined() || logits_buffer.size(1) != end - begin) {  // the first block, and a shorter last one
          logits_buffer = at::empty({b, end - begin, vocab}, hidden.options());
          logp_buffer = at::empty_like(logits_buffer);
        }
        logits = logits_buffer;
        at::linear_out(logits, hidden.slice(1, begin, end), head);
      } else {
        logits = at::linear(hidden.slice(1, begin, end), head).to(wide);  // (B, c, V)
      }
    }
    StageTimer timer("loss", 0);
    if (into_buffers) {
      logp = logp_buffer;
      at::log_softmax_out(logp, logits, -1);
    } else {
      logp = at::log_softmax(logits, -1);
    }
    at::Tensor picked = logp.gather(-1, targets.slice(1, begin, end).unsqueeze(-1)).squeeze(-1);  // (B, c)
    total -= picked.sum(1).to(at::kDouble);
  }
  return total;
}

at::Tensor forward_logits(const LlamaModel& model, const Document& doc, const RopeScaling& scaling) {
  const int64_t length = static_cast<int64_t>(doc.tokens.size()), vocab = model.config().vocab_size;
  for (size_t i = 0; i < doc.tokens.size(); ++i)
    if (doc.tokens[i] >= vocab)
      throw std::runtime_error(fmt::format("{}: token id {} at {} is outside the vocabulary ({})", doc.name, doc.tokens[i], i, vocab));
  const RopeTable table = build_rope_table(model.rope_geometry(), scaling, length, model.device(), model.dtype());
  c10::InferenceMode guard;
  const at::Tensor tokens = at::tensor(at::ArrayRef<int32_t>(doc.tokens)).to(at::kLong).unsqueeze(0);
  return model.logits(model.hidden_states(tokens, table)).squeeze(0).to(at::kCPU).contiguous();
}

PerplexityResult summarize_scores(std::vector<DocumentScore> documents, double seconds) {
  if (documents.empty()) throw std::invalid_argument("no scored windows to summarize");
  PerplexityResult r;
  r.documents = std::move(documents);
  double mean = 0;
  for (const DocumentScore& d : r.documents) {
    mean += d.mean_nll;
    r.predictions += d.predictions;
  }
  const double n = static_cast<double>(r.documents.size());
  mean /= n;
  double var = 0;
  for (const DocumentScore& d : r.documents) var += (d.mean_nll - mean) * (d.mean_nll - mean);
  r.mean_nll = mean;
  r.nll_stderr = n > 1 ? std::sqrt(var / (n - 1) / n) : 0.0;
  r.ppl = std::exp(mean);
  r.seconds = seconds;
  return r;
}

std::vector<double> window_nlls(const PerplexityResult& r) {
  std::vector<double> out;
  for (const DocumentScore& d : r.documents) out.push_back(d.mean_nll);
  return out;
}

PerplexityEvaluator::PerplexityEvaluator(const LlamaModel& model, PerplexityOptions options)
    : model_(model), options_(options), tables_(model.rope_geometry()) {
  if (options_.length < 2) throw InvalidSetting("length", fmt::format("must be at least 2, got {}", options_.length));
  if (options_.batch < 1) throw InvalidSetting("batch", fmt::format("must be positive, got {}", options_.batch));
  if (options_.loss_chunk_tokens < 1)
    throw InvalidSetting("loss_chunk", fmt::format("must be positive, got {}", options_.loss_chunk_tokens));
}

int64_t PerplexityEvaluator::window_length(const Document& doc) const {
  if (doc.window_length > options_.length)
    throw std::invalid_argument(fmt::format("document '{}': a window of {} tokens is longer than the evaluator's {}", doc.name,
                                            doc.window_length, options_.length));
  return doc.window_length > 0 ? doc.window_length : options_.length;
}

at::Tensor PerplexityEvaluator::window(const Document& doc) const {
  const int64_t length = window_length(doc);
  const int64_t body = options_.bos_id ? length - 1 : length;
  if (static_cast<int64_t>(doc.tokens.size()) < body)
    throw std::runtime_error(fmt::format("document '{}' has {} tokens, fewer than the {} a window of {} needs", doc.name,
                                         doc.tokens.size(), body, length));
  at::Tensor t = at::empty({length}, at::kLong);
  int64_t* p = t.data_ptr<int64_t>();
  int64_t at_pos = 0;
  if (options_.bos_id) p[at_pos++] = *options_.bos_id;
  const int64_t vocab = model_.config().vocab_size;
  for (int64_t i = 0; i < body; ++i) {
    const int32_t id = doc.tokens[static_cast<size_t>(i)];
    if (id >= vocab)
      throw std::runtime_error(fmt::format("document '{}': token id {} at {} is outside the vocabulary ({})", doc.name, id, i, vocab));
    p[at_pos++] = id;
  }
  return t;
}

RopeTable PerplexityEvaluator::table(const RopeScaling& scaling) {
  return tables_.get(scaling, options_.length, model_.device(), model_.dtype());
}

int64_t PerplexityEvaluator::predictions(const Document& doc) const {
  const int64_t length = window_length(doc);
  return doc.scored_tail > 0 ? std::min(doc.scored_tail, length - 1) : length - 1;
}

std::vector<double> PerplexityEvaluator::nll_sums(const at::Tensor& tokens, const RopeTable& table, int64_t scored_tail) const {
  c10::InferenceMode guard;
  const int64_t t = tokens.size(1);
  const int64_t first = scored_tail > 0 ? std::max<int64_t>(0, t - 1 - scored_tail) : 0;  // the first scored prediction
  try {
    at::Tensor on_device = tokens.to(model_.device());
    at::Tensor hidden = model_.hidden_states(on_device, table);  // (B, T, C)
    at::Tensor sums = chunked_nll_sum(hidden.slice(1, first, t - 1), on_device.slice(1, first + 1, t), model_.weights().lm_head,
                                      options_.loss_chunk_tokens).to(at::kCPU);
    return std::vector<double>(sums.data_ptr<double>(), sums.data_ptr<double>() + sums.numel());
  } catch (const c10::Error& e) {
    // One line with the window and what did not fit (torch's own message names the bytes).
    const std::optional<std::string> line = out_of_memory_line(e.what());
    if (!line) throw;
    throw std::runtime_error(fmt::format("a window of {} tokens × {} rows does not fit in the memory of {}: {}", t, tokens.size(0),
                                         model_.device().str(), *line));
  }
}

std::optional<std::string> out_of_memory_line(const std::string& what) {
  if (what.find("out of memory") == std::string::npos && what.find("can't allocate memory") == std::string::npos) return std::nullopt;
  return what.substr(0, std::min(what.find('\n'), size_t{240}));
}

std::string PerplexityEvaluator::explain_non_finite(const std::vector<Document>& documents, const RopeScaling& scaling) {
  const RopeTable table = this->table(scaling);
  for (const Document& doc : documents) {
    const at::Tensor tokens = window(doc).unsqueeze(0);
    if (std::isfinite(nll_sums(tokens, table, doc.scored_tail)[0])) continue;
    const std::string where = model_.first_non_finite(tokens, table);
    return fmt::format("document '{}': the forward first leaves the finite numbers at the {}{}", doc.name,
                       where.empty() ? "loss" : where,
                       model_.dtype() == at::kFloat ? "" : " (16-bit activations can overflow: try dtype f32)");
  }
  return "every document's NLL is finite: their mean overflows exp()";
}

PerplexityResult PerplexityEvaluator::evaluate(const std::vector<Document>& documents, const RopeScaling& scaling,
                                               const ProgressCallback& progress) {
  if (documents.empty()) throw std::invalid_argument("no documents to evaluate");
  const auto start = std::chrono::steady_clock::now();
  const RopeTable table = this->table(scaling);
  std::vector<DocumentScore> scores;
  for (size_t begin = 0; begin < documents.size();) {
    // A batch shares its window length and which predictions it scores: documents with another start a new one.
    size_t end = begin + 1;
    while (end < documents.size() && end - begin < static_cast<size_t>(options_.batch) &&
           documents[end].scored_tail == documents[begin].scored_tail && window_length(documents[end]) == window_length(documents[begin]))
      ++end;
    std::vector<at::Tensor> rows;
    for (size_t i = begin; i < end; ++i) rows.push_back(window(documents[i]));
    const std::vector<double> sums = nll_sums(at::stack(rows), table, documents[begin].scored_tail);
    for (size_t i = begin; i < end; ++i) {
      const int64_t predictions = this->predictions(documents[i]);
      scores.push_back({documents[i].name, sums[i - begin] / static_cast<double>(predictions), predictions});
    }
    if (progress) progress(end, documents.size());
    begin = end;
  }
  return summarize_scores(std::move(scores), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace longrope
