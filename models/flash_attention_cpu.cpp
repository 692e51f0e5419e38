// Tiled causal attention for AVX2 + FMA. A task is one block of kQueryRows queries of the G query
// heads that share a key head. It walks the keys up to its diagonal kKeyColumns at a time, each block
// of keys and values serving the G heads in turn while it is in cache:
//   S = Q·Kᵀ · log2(e)/√D        6×16 register tiles over D, keys from 16-wide packed panels
//   mask, then per row: m' = max(m, max S), P = 2^(S − m'), l = l·2^(m − m') + ΣP, O = O·2^(m − m')
//   O += P·V                      6×16 register tiles over the block's keys
// and writes O / l. Working in base 2 folds e^x's ln 2 into the score scale. Only the functions marked
// LONGROPE_AVX2 use the instructions: the file builds without -mavx2, and the caller checks the CPU.
#include "models/flash_attention_cpu.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define LONGROPE_FLASH_X86 1
#include <immintrin.h>
#define LONGROPE_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace longrope {

#ifdef LONGROPE_FLASH_X86
namespace {

constexpr int64_t kQueryRows = 96;     // queries per task: 16 register tiles of 6 rows
constexpr int64_t kKeyColumns = 128;   // keys per step of the running softmax (scores: 48 KB, in L2)
constexpr int kTileRows = 6;           // 6 rows × 16 columns = 12 of AVX2's 16 registers as accumulators
constexpr int64_t kPanel = 16;         // keys per packed panel: two registers wide
constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();

// 2^x for x <= 0 (and −∞): 2^n through the exponent bits times 2^f, with n = round(x) and f = x − n
// in [−½, ½], 2^f by its Taylor series to degree 6 (relative error below 2e-7 there). Adding 1.5·2²³
// rounds x to an integer in the low mantissa bits, with the exponent bias (127) folded in. Below 2^−126
// gives 0; NaN stays NaN.
LONGROPE_AVX2 inline __m256 exp2_nonpositive(__m256 x) {
  const __m256 lowest = _mm256_set1_ps(-126.0f), shifter = _mm256_set1_ps(12582912.0f + 127.0f);
  const __m256 underflow = _mm256_cmp_ps(x, lowest, _CMP_LT_OQ);
  x = _mm256_max_ps(lowest, x);  // max returns its second operand when one is NaN
  const __m256 biased = _mm256_add_ps(x, shifter);  // low bits: round(x) + 127
  const __m256 f = _mm256_sub_ps(x, _mm256_sub_ps(biased, shifter));
  __m256 p = _mm256_set1_ps(1.5403530e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.3333558e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.6181291e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.5504109e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.4022651e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.9314718e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  const __m256 two_to_n = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(biased), 23));
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, two_to_n));
}

LONGROPE_AVX2 inline float horizontal_max(__m256 x) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

LONGROPE_AVX2 inline float horizontal_sum(__m256 x) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// The register tiles: 6 rows × 16 columns in 12 named accumulators (GCC spills an array of them to the
// stack on every step). A tile always computes 6 rows; past the block's last row it repeats that
// row's queries and writes rows of scratch that nothing reads.

// scores[r][0..16) = scale · Σ_j q_r[j] · panel[j][0..16) for one 16-key panel.
LONGROPE_AVX2 void score_tile(const float* const q[kTileRows], const float* panel, int64_t d, float scale, float* scores,
                              int64_t scores_row) {
  __m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0, a4 = a0, b4 = a0, a5 = a0, b5 = a0;
  for (int64_t j = 0; j < d; ++j) {
    const __m256 lo = _mm256_loadu_ps(panel + j * kPanel), hi = _mm256_loadu_ps(panel + j * kPanel + 8);
    __m256 x = _mm256_broadcast_ss(q[0] + j);
    a0 = _mm256_fmadd_ps(x, lo, a0), b0 = _mm256_fmadd_ps(x, hi, b0);
    x = _mm256_broadcast_ss(q[1] + j);
    a1 = _mm256_fmadd_ps(x, lo, a1), b1 = _mm256_fmadd_ps(x, hi, b1);
    x = _mm256_broadcast_ss(q[2] + j);
    a2 = _mm256_fmadd_ps(x, lo, a2), b2 = _mm256_fmadd_ps(x, hi, b2);
    x = _mm256_broadcast_ss(q[3] + j);
    a3 = _mm256_fmadd_ps(x, lo, a3), b3 = _mm256_fmadd_ps(x, hi, b3);
    x = _mm256_broadcast_ss(q[4] + j);
    a4 = _mm256_fmadd_ps(x, lo, a4), b4 = _mm256_fmadd_ps(x, hi, b4);
    x = _mm256_broadcast_ss(q[5] + j);
    a5 = _mm256_fmadd_ps(x, lo, a5), b5 = _mm256_fmadd_ps(x, hi, b5);
  }
  const __m256 s = _mm256_set1_ps(scale);
  float* row = scores;
  _mm256_storeu_ps(row, _mm256_mul_ps(a0, s)), _mm256_storeu_ps(row + 8, _mm256_mul_ps(b0, s)), row += scores_row;
  _mm256_storeu_ps(row, _mm256_mul_ps(a1, s)), _mm256_storeu_ps(row + 8, _mm256_mul_ps(b1, s)), row += scores_row;
  _mm256_storeu_ps(row, _mm256_mul_ps(a2, s)), _mm256_storeu_ps(row + 8, _mm256_mul_ps(b2, s)), row += scores_row;
  _mm256_storeu_ps(row, _mm256_mul_ps(a3, s)), _mm256_storeu_ps(row + 8, _mm256_mul_ps(b3, s)), row += scores_row;
  _mm256_storeu_ps(row, _mm256_mul_ps(a4, s)), _mm256_storeu_ps(row + 8, _mm256_mul_ps(b4, s)), row += scores_row;
  _mm256_storeu_ps(row, _mm256_mul_ps(a5, s)), _mm256_storeu_ps(row + 8, _mm256_mul_ps(b5, s));
}

// acc[r][0..16) += Σ_c p[r][c] · v[c][0..16) over the block's n keys, for 6 rows.
LONGROPE_AVX2 void value_tile(const float* p, int64_t p_row, const float* v, int64_t v_row, int64_t n, float* acc,
                              int64_t acc_row) {
  const float *w0 = p, *w1 = w0 + p_row, *w2 = w1 + p_row, *w3 = w2 + p_row, *w4 = w3 + p_row, *w5 = w4 + p_row;
  float *o0 = acc, *o1 = o0 + acc_row, *o2 = o1 + acc_row, *o3 = o2 + acc_row, *o4 = o3 + acc_row, *o5 = o4 + acc_row;
  __m256 a0 = _mm256_loadu_ps(o0), b0 = _mm256_loadu_ps(o0 + 8), a1 = _mm256_loadu_ps(o1), b1 = _mm256_loadu_ps(o1 + 8),
         a2 = _mm256_loadu_ps(o2), b2 = _mm256_loadu_ps(o2 + 8), a3 = _mm256_loadu_ps(o3), b3 = _mm256_loadu_ps(o3 + 8),
         a4 = _mm256_loadu_ps(o4), b4 = _mm256_loadu_ps(o4 + 8), a5 = _mm256_loadu_ps(o5), b5 = _mm256_loadu_ps(o5 + 8);
  for (int64_t c = 0; c < n; ++c) {
    const __m256 lo = _mm256_loadu_ps(v + c * v_row), hi = _mm256_loadu_ps(v + c * v_row + 8);
    __m256 x = _mm256_broadcast_ss(w0 + c);
    a0 = _mm256_fmadd_ps(x, lo, a0), b0 = _mm256_fmadd_ps(x, hi, b0);
    x = _mm256_broadcast_ss(w1 + c);
    a1 = _mm256_fmadd_ps(x, lo, a1), b1 = _mm256_fmadd_ps(x, hi, b1);
    x = _mm256_broadcast_ss(w2 + c);
    a2 = _mm256_fmadd_ps(x, lo, a2), b2 = _mm256_fmadd_ps(x, hi, b2);
    x = _mm256_broadcast_ss(w3 + c);
    a3 = _mm256_fmadd_ps(x, lo, a3), b3 = _mm256_fmadd_ps(x, hi, b3);
    x = _mm256_broadcast_ss(w4 + c);
    a4 = _mm256_fmadd_ps(x, lo, a4), b4 = _mm256_fmadd_ps(x, hi, b4);
    x = _mm256_broadcast_ss(w5 + c);
    a5 = _mm256_fmadd_ps(x, lo, a5), b5 = _mm256_fmadd_ps(x, hi, b5);
  }
  _mm256_storeu_ps(o0, a0), _mm256_storeu_ps(o0 + 8, b0), _mm256_storeu_ps(o1, a1), _mm256_storeu_ps(o1 + 8, b1);
  _mm256_storeu_ps(o2, a2), _mm256_storeu_ps(o2 + 8, b2), _mm256_storeu_ps(o3, a3), _mm256_storeu_ps(o3 + 8, b3);
  _mm256_storeu_ps(o4, a4), _mm256_storeu_ps(o4 + 8, b4), _mm256_storeu_ps(o5, a5), _mm256_storeu_ps(o5 + 8, b5);
}

// One key head's keys as panels of 16: panel p holds keys 16p .. 16p+15, key-major within each of
// the D rows (packed[p][j][c] = K[16p + c][j]), zero past the last token.
void pack_keys(const float* k, int64_t k_row, int64_t tokens, int64_t d, float* packed) {
  const int64_t panels = (tokens + kPanel - 1) / kPanel;
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t j = 0; j < d; ++j)
      for (int64_t c = 0; c < kPanel; ++c) {
        const int64_t t = p * kPanel + c;
        packed[(p * d + j) * kPanel + c] = t < tokens ? k[t * k_row + j] : 0.0f;
      }
}

// One query head's running state over a block of queries: the unnormalised output and, per row, the
// running maximum (base-2 units) and sum of the probabilities.
struct HeadState {
  std::vector<float> acc, row_max, row_sum;
  explicit HeadState(int64_t d) : acc(kQueryRows * d), row_max(kQueryRows), row_sum(kQueryRows) {}
};

// Per row of a scored block: mask what the row may not see, then the running softmax's update;
// scores become the probabilities P. Keys k0 + c, c < width; row r is query q0 + r.
LONGROPE_AVX2 void softmax_step(const FlashAttentionProblem& pr, int64_t q0, int64_t rows, int64_t k0, int64_t width, float* scores,
                                HeadState& s) {
  const int64_t d = pr.head_dim;
  for (int64_t r = 0; r < rows; ++r) {
    float* row = scores + r * kKeyColumns;
    const int64_t query = q0 + r;
    // Visible keys: query − window < key <= query.
    const int64_t first_visible = pr.window > 0 ? query - pr.window + 1 - k0 : std::numeric_limits<int64_t>::min();
    const int64_t last_visible = query - k0;
    if (first_visible > 0 || last_visible < width - 1)
      for (int64_t c = 0; c < width; ++c)
        if (c > last_visible || c < first_visible) row[c] = kNegativeInfinity;
    // AVX's max drops a NaN in one operand: track NaNs apart, so that they reach the output.
    __m256 mx = _mm256_set1_ps(kNegativeInfinity), nan = _mm256_setzero_ps();
    for (int64_t c = 0; c < width; c += 8) {
      const __m256 x = _mm256_loadu_ps(row + c);
      mx = _mm256_max_ps(mx, x);
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    }
    const float old_max = s.row_max[r];
    const float new_max = _mm256_movemask_ps(nan) ? std::numeric_limits<float>::quiet_NaN() : std::max(old_max, horizontal_max(mx));
    if (new_max == kNegativeInfinity) {  // nothing visible yet: P = 0, nothing else changes
      std::fill(row, row + width, 0.0f);
      continue;
    }
    const __m256 shift = _mm256_set1_ps(new_max);
    __m256 sum = _mm256_setzero_ps();
    for (int64_t c = 0; c < width; c += 8) {
      const __m256 p = exp2_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(row + c), shift));
      _mm256_storeu_ps(row + c, p);
      sum = _mm256_add_ps(sum, p);
    }
    const float rescale = std::exp2(old_max - new_max);  // 0 on the first visible block
    s.row_sum[r] = s.row_sum[r] * rescale + horizontal_sum(sum);
    s.row_max[r] = new_max;
    if (rescale != 1.0f) {
      float* acc = s.acc.data() + r * d;
      const __m256 f = _mm256_set1_ps(rescale);
      for (int64_t j = 0; j < d; j += 8) _mm256_storeu_ps(acc + j, _mm256_mul_ps(_mm256_loadu_ps(acc + j), f));
    }
  }
}

// Queries q0 .. q0 + rows − 1 of the G query heads that share key head kv_head in batch b. The G heads
// take each block of keys and values in turn while it is still in cache.
LONGROPE_AVX2 void attend_query_block(const FlashAttentionProblem& pr, const float* panels, int64_t b, int64_t kv_head, int64_t q0,
                                      int64_t rows, std::vector<float>& scores, std::vector<HeadState>& heads) {
  const int64_t d = pr.head_dim, group = pr.heads / pr.kv_heads;
  const float* v = pr.v + b * pr.v_batch + kv_head * pr.v_head;
  const float scale = static_cast<float>(1.4426950408889634 / std::sqrt(static_cast<double>(d)));  // log2(e)/√D
  for (HeadState& s : heads) {
    std::fill(s.acc.begin(), s.acc.begin() + rows * d, 0.0f);
    std::fill(s.row_max.begin(), s.row_max.begin() + rows, kNegativeInfinity);
    std::fill(s.row_sum.begin(), s.row_sum.begin() + rows, 0.0f);
  }
  const int64_t q_end = q0 + rows;  // keys beyond the last query are never visible
  const int64_t first_key = pr.window > 0 ? std::max<int64_t>(0, q0 - pr.window + 1) / kPanel * kPanel : 0;
  for (int64_t k0 = first_key; k0 < q_end; k0 += kKeyColumns) {
    const int64_t keys = std::min(kKeyColumns, q_end - k0);
    const int64_t width = (keys + kPanel - 1) / kPanel * kPanel;
    for (int64_t g = 0; g < group; ++g) {
      const float* q = pr.q + b * pr.q_batch + (kv_head * group + g) * pr.q_head + q0 * pr.q_row;
      HeadState& s = heads[g];
      // Panel by panel, so that each 16-key panel stays in L1 while every row tile reads it. Tiles whose
      // last query comes before the panel's first key skip it (softmax_step masks those scores).
      for (int64_t c = 0; c < keys; c += kPanel)
        for (int64_t r0 = std::max<int64_t>(0, k0 + c - q0 - kTileRows + 1) / kTileRows * kTileRows; r0 < rows; r0 += kTileRows) {
          const float* tile_q[kTileRows];
          for (int r = 0; r < kTileRows; ++r) tile_q[r] = q + std::min<int64_t>(r0 + r, rows - 1) * pr.q_row;
          score_tile(tile_q, panels + (k0 + c) * d, d, scale, scores.data() + r0 * kKeyColumns + c, kKeyColumns);
        }
      softmax_step(pr, q0, rows, k0, width, scores.data(), s);
      for (int64_t r0 = 0; r0 < rows; r0 += kTileRows) {
        const int64_t seen = std::min(keys, q0 + r0 + std::min<int64_t>(kTileRows, rows - r0) - k0);
        for (int64_t j = 0; j < d; j += 16)
          value_tile(scores.data() + r0 * kKeyColumns, kKeyColumns, v + k0 * pr.v_row + j, pr.v_row, seen, s.acc.data() + r0 * d + j, d);
      }
    }
  }
  for (int64_t g = 0; g < group; ++g)
    for (int64_t r = 0; r < rows; ++r) {
      float* out = pr.out + ((b * pr.tokens + q0 + r) * pr.heads + kv_head * group + g) * d;
      const float* acc = heads[g].acc.data() + r * d;
      const __m256 inverse = _mm256_set1_ps(1.0f / heads[g].row_sum[r]);
      for (int64_t j = 0; j < d; j += 8) _mm256_storeu_ps(out + j, _mm256_mul_ps(_mm256_loadu_ps(acc + j), inverse));
    }
}

}  // namespace

bool flash_attention_cpu_supported(int64_t head_dim) {
  static const bool cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return cpu && head_dim > 0 && head_dim % 16 == 0 && head_dim <= 512;
}

void flash_attention_cpu(const FlashAttentionProblem& pr, const ParallelFor& parallel_for) {
  if (!flash_attention_cpu_supported(pr.head_dim)) throw std::logic_error("flash_attention_cpu: unsupported CPU or head size");
  if (pr.tokens == 0 || pr.batch == 0) return;
  const int64_t d = pr.head_dim, panels = (pr.tokens + kPanel - 1) / kPanel, per_head = panels * kPanel * d;
  // Each key head packed once, then read by its G query heads and all their query blocks.
  // Not zero-filled: pack_keys writes every element, the last panel's padding included.
  const std::unique_ptr<float[]> packed(new float[pr.batch * pr.kv_heads * per_head]);
  parallel_for(pr.batch * pr.kv_heads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      pack_keys(pr.k + i / pr.kv_heads * pr.k_batch + i % pr.kv_heads * pr.k_head, pr.k_row, pr.tokens, d,
                packed.get() + i * per_head);
  });
  // A task is one key head's query block (its G query heads). Blocks late in the sequence cost more
  // than early ones, so the threads take tasks from a shared counter, dearest first, rather than a
  // fixed range each; the ranges parallel_for hands out only start the workers.
  const int64_t blocks = (pr.tokens + kQueryRows - 1) / kQueryRows, kv_heads = pr.batch * pr.kv_heads, tasks = blocks * kv_heads;
  std::atomic<int64_t> next{0};
  parallel_for(tasks, [&](int64_t, int64_t) {
    std::vector<float> scores(kQueryRows * kKeyColumns);
    std::vector<HeadState> heads(pr.heads / pr.kv_heads, HeadState(d));
    for (int64_t task = next++; task < tasks; task = next++) {
      const int64_t bk = task % kv_heads, block = blocks - 1 - task / kv_heads;
      const int64_t q0 = block * kQueryRows;
      attend_query_block(pr, packed.get() + bk * per_head, bk / pr.kv_heads, bk % pr.kv_heads, q0,
                         std::min(kQueryRows, pr.tokens - q0), scores, heads);
    }
  });
}

#else  // not x86 with GCC or Clang: the caller takes another backend

bool flash_attention_cpu_supported(int64_t) { return false; }

void flash_attention_cpu(const FlashAttentionProblem&, const ParallelFor&) {
  throw std::logic_error("flash_attention_cpu: built without x86 AVX2 support");
}

#endif

}  // namespace longrope
