// Chunked, full, SDPA and flash-cpu (models/flash_attention_cpu.h) causal attention. Shapes: B batch,
// H query heads, KVH key/value heads, G = H/KVH queries per key head, T tokens, D head dim.
#include "models/attention.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/version.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/cpu_threads.h"
#include "models/flash_attention_cpu.h"
#include "models/kernel_threads.h"
#include "util/errors.h"

namespace longrope {
namespace {

// Keys j visible from query position t: j <= t and, with a window W, j > t − W.
at::Tensor causal_mask(int64_t q_begin, int64_t q_end, int64_t k_end, int64_t window, const at::Device& device) {
  auto opts = at::TensorOptions().dtype(at::kLong).device(device);
  at::Tensor qpos = at::arange(q_begin, q_end, opts).unsqueeze(1);  // (Tq, 1)
  at::Tensor kpos = at::arange(0, k_end, opts).unsqueeze(0);        // (1, Tk)
  at::Tensor visible = kpos <= qpos;
  if (window > 0) visible = visible & (kpos > qpos - window);
  return visible;  // (Tq, Tk) bool
}

// One block of queries [q_begin, q_end) against keys [k_begin, q_end). Returns (B, KVH, G, Tq, D).
at::Tensor attend_block(const at::Tensor& q5, const at::Tensor& k, const at::Tensor& v, int64_t q_begin, int64_t q_end,
                        int64_t k_begin, int64_t window, double scale) {
  const int64_t b = q5.size(0), kvh = q5.size(1), g = q5.size(2), d = q5.size(4);
  const int64_t tq = q_end - q_begin, tk = q_end - k_begin;
  // Rows (g, t) share a key head, so one matmul serves all G query heads without repeating K/V.
  at::Tensor qb = q5.slice(3, q_begin, q_end).reshape({b, kvh, g * tq, d});
  at::Tensor kb = k.slice(2, k_begin, q_end);
  at::Tensor vb = v.slice(2, k_begin, q_end);
  // Scores and softmax in float32 at least (float64 stays float64: the λ-gradient checks run there).
  at::Tensor scores = at::matmul(qb, kb.transpose(-2, -1)).to(at::promote_types(qb.scalar_type(), at::kFloat)).mul_(scale);
  at::Tensor mask = causal_mask(q_begin, q_end, q_end, window, q5.device()).slice(1, k_begin, q_end);
  scores = scores.view({b, kvh, g, tq, tk}).masked_fill_(mask.logical_not(), -std::numeric_limits<float>::infinity());
  at::Tensor probs = at::softmax(scores, -1).to(q5.scalar_type()).view({b, kvh, g * tq, tk});
  return at::matmul(probs, vb).view({b, kvh, g, tq, d});
}

at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionOptions& o,
                             int64_t block_rows) {
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), kvh = k.size(1), g = h / kvh;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  at::Tensor q5 = q.view({b, kvh, g, t, d});
  at::Tensor out = at::empty({b, kvh, g, t, d}, q.options());
  for (int64_t begin = 0; begin < t; begin += block_rows) {
    const int64_t end = std::min(t, begin + block_rows);
    const int64_t k_begin = o.sliding_window > 0 ? std::max<int64_t>(0, begin - o.sliding_window + 1) : 0;
    out.slice(3, begin, end).copy_(attend_block(q5, k, v, begin, end, k_begin, o.sliding_window, scale));
  }
  // (B, KVH, G, T, D) -> (B, T, H·D); head index = kv_head·G + g, as transformers' repeat_kv.
  return out.view({b, h, t, d}).transpose(1, 2).reshape({b, t, h * d});
}

at::Tensor flash_cpu_attention(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in, int64_t window) {
  // The kernel reads rows with any stride but each row contiguous.
  const auto rows_contiguous = [](const at::Tensor& x) { return x.stride(3) == 1 ? x : x.contiguous(); };
  const at::Tensor q = rows_contiguous(q_in), k = rows_contiguous(k_in), v = rows_contiguous(v_in);
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3);
  TORCH_CHECK(k.sizes() == v.sizes() && k.size(0) == b && k.size(2) == t && k.size(3) == d,
              "flash-cpu attention: keys ", k.sizes(), " and values ", v.sizes(), " do not fit queries ", q.sizes());
  at::Tensor out = at::empty({b, t, h * d}, q.options());
  FlashAttentionProblem p;
  p.batch = b, p.heads = h, p.kv_heads = k.size(1), p.tokens = t, p.head_dim = d, p.window = window;
  p.q = q.data_ptr<float>(), p.q_batch = q.stride(0), p.q_head = q.stride(1), p.q_row = q.stride(2);
  p.k = k.data_ptr<float>(), p.k_batch = k.stride(0), p.k_head = k.stride(1), p.k_row = k.stride(2);
  p.v = v.data_ptr<float>(), p.v_batch = v.stride(0), p.v_head = v.stride(1), p.v_row = v.stride(2);
  p.out = out.data_ptr<float>();
  // As many threads as LibTorch's intra-op setting (--threads), on std::threads (models/cpu_threads.h).
  const int64_t threads = kernel_threads();
  flash_attention_cpu(p, [threads](int64_t count, const std::function<void(int64_t, int64_t)>& body) { run_on_threads(count, threads, body); });
  return out;
}

#if TORCH_VERSION_MAJOR >= 2
at::Tensor sdpa_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), kvh = k.size(1);
  at::Tensor kk = k, vv = v;
  if (kvh != h) {  // expand shared key/value heads: the fused kernels want matching head counts
    kk = k.repeat_interleave(h / kvh, 1);
    vv = v.repeat_interleave(h / kvh, 1);
  }
  at::Tensor out = at::scaled_dot_product_attention(q, kk, vv, /*attn_mask=*/{}, /*dropout_p=*/0.0, /*is_causal=*/true);
  return out.transpose(1, 2).reshape({b, t, h * d});
}
#endif

}  // namespace

bool sdpa_available() { return TORCH_VERSION_MAJOR >= 2; }

bool flash_cpu_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const auto plain = [](const at::Tensor& x) { return x.device().is_cpu() && x.scalar_type() == at::kFloat; };
  const bool needs_grad = at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  return plain(q) && plain(k) && plain(v) && !needs_grad && flash_attention_cpu_supported(q.size(3));
}

AttentionBackend parse_attention_backend(const std::string& name) {
  if (name == "auto") return AttentionBackend::kAuto;
  if (name == "chunked") return AttentionBackend::kChunked;
  if (name == "sdpa") {
    if (!sdpa_available()) throw InvalidSetting("attention", "'sdpa' needs LibTorch >= 2.0; this build has " TORCH_VERSION);
    return AttentionBackend::kSdpa;
  }
  if (name == "full") return AttentionBackend::kFull;
  if (name == "flash-cpu") return AttentionBackend::kFlashCpu;
  throw InvalidSetting("attention", "unknown attention backend '" + name + "' (auto, chunked, sdpa, full, flash-cpu)");
}

at::Tensor attention_after_prefix(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t start,
                                  const AttentionOptions& o) {
  if (start == 0) return causal_attention(q, k, v, o);
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), total = k.size(2), kvh = k.size(1);
  TORCH_CHECK(total == start + t, "attention after a prefix: ", total, " keys for ", t, " queries after ", start);
  const at::Tensor kk = kvh == h ? k : k.repeat_interleave(h / kvh, 1);
  const at::Tensor vv = kvh == h ? v : v.repeat_interleave(h / kvh, 1);
  const auto wide = at::promote_types(q.scalar_type(), at::kFloat);
  at::Tensor scores = at::matmul(q.to(wide), kk.to(wide).transpose(-2, -1)) / std::sqrt(static_cast<double>(d));
  // Query i sits at start + i: it sees key j when j <= start + i (and, with a window, j > start + i − W).
  const at::Tensor query_pos = at::arange(start, start + t, q.options().dtype(at::kLong)).unsqueeze(1);
  const at::Tensor key_pos = at::arange(0, total, q.options().dtype(at::kLong)).unsqueeze(0);
  at::Tensor hidden = key_pos > query_pos;
  if (o.sliding_window > 0) hidden = hidden.logical_or(key_pos <= query_pos - o.sliding_window);
  scores.masked_fill_(hidden, -std::numeric_limits<float>::infinity());
  const at::Tensor out = at::matmul(at::softmax(scores, -1), vv.to(wide)).to(q.scalar_type());  // (B, H, t, D)
  return out.transpose(1, 2).reshape({b, t, h * d});
}

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionOptions& o) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention expects (B, heads, T, D) inputs");
  TORCH_CHECK(q.size(1) % k.size(1) == 0, "query heads ", q.size(1), " not a multiple of key heads ", k.size(1));
  const int64_t t = q.size(2);
  AttentionBackend backend = o.backend;
  if (backend == AttentionBackend::kAuto) {
    if (flash_cpu_applies(q, k, v)) return flash_cpu_attention(q, k, v, o.sliding_window);
    backend = (sdpa_available() && o.sliding_window <= 0) ? AttentionBackend::kSdpa : AttentionBackend::kChunked;
  }
  if (backend == AttentionBackend::kFlashCpu) {
    TORCH_CHECK(flash_cpu_applies(q, k, v), "the flash-cpu attention backend needs CPU f32 tensors without gradients, a CPU "
                "with AVX2 and FMA, and a head size that is a multiple of 16 (got ", q.size(3), "); use auto");
    return flash_cpu_attention(q, k, v, o.sliding_window);
  }
  if (backend == AttentionBackend::kSdpa) {
#if TORCH_VERSION_MAJOR >= 2
    TORCH_CHECK(o.sliding_window <= 0, "the sdpa backend has no sliding window; use chunked");
    return sdpa_attention(q, k, v);
#else
    TORCH_CHECK(false, "sdpa attention needs LibTorch >= 2.0");
#endif
  }
  if (backend == AttentionBackend::kFull) return chunked_attention(q, k, v, o, t);
  // Rows per block so that B·H·rows·T fp32 scores stay within the budget.
  const int64_t per_row = q.size(0) * q.size(1) * t * 4;
  const int64_t rows = std::max<int64_t>(16, std::min<int64_t>(t, o.chunk_score_bytes / std::max<int64_t>(per_row, 1)));
  return chunked_attention(q, k, v, o, rows);
}

}  // namespace longrope
