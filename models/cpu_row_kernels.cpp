// One pass per row; plain loops the compiler vectorises (the work is memory-bound: no intrinsics).
// Products and sums stay separate statements, and the file is built with -ffp-contract=off
// (models/CMakeLists.txt: GCC contracts across statements too), so no FMA changes their rounding.
#include "models/cpu_row_kernels.h"

#include <cmath>

#include "models/cpu_threads.h"

namespace longrope {

void rms_norm_rows(const float* x, int64_t x_row, int64_t rows, int64_t width, const float* weight, float eps, float* out,
                   int64_t threads) {
  run_on_threads(rows, threads, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* in = x + r * x_row;
      float* __restrict__ o = out + r * width;
      // 16 running sums side by side: without -ffast-math one sum is a chain of dependent adds the
      // compiler may not reorder, 4 cycles each.
      float lanes[16] = {};
      int64_t j = 0;
      for (; j + 16 <= width; j += 16)
        for (int k = 0; k < 16; ++k) lanes[k] += in[j + k] * in[j + k];
      double squares = 0;
      for (; j < width; ++j) squares += static_cast<double>(in[j]) * in[j];
      for (float lane : lanes) squares += lane;
      const float mean = static_cast<float>(squares / static_cast<double>(width));
      const float inverse = 1.0f / std::sqrt(mean + eps);
      for (int64_t j = 0; j < width; ++j) {
        const float normed = in[j] * inverse;
        o[j] = weight[j] * normed;
      }
    }
  });
}

void rotate_half_rows(const RotaryProblem& p, int64_t threads) {
  const int64_t rows = p.batch * p.heads * p.tokens, half = p.half, d = p.head_dim;
  run_on_threads(rows, threads, [&](int64_t begin, int64_t end) {
    // r = (b·heads + h)·tokens + t: out's row order. Divide once, then step (t, h, b) like an odometer.
    int64_t t = begin % p.tokens, h = begin / p.tokens % p.heads, b = begin / p.tokens / p.heads;
    for (int64_t r = begin; r < end; ++r, ++t) {
      if (t == p.tokens) t = 0, ++h;
      if (h == p.heads) h = 0, ++b;
      const float* in = p.x + b * p.x_batch + h * p.x_head + t * p.x_row;
      const float* c = p.cos + b * p.table_batch + t * p.table_row;
      const float* s = p.sin + b * p.table_batch + t * p.table_row;
      float* __restrict__ o = p.out + r * d;
      for (int64_t i = 0; i < half; ++i) {
        const float x1c = in[i] * c[i], x2s = in[i + half] * s[i];
        o[i] = x1c - x2s;
      }
      for (int64_t i = 0; i < half; ++i) {
        const float x2c = in[i + half] * c[i], x1s = in[i] * s[i];
        o[i + half] = x2c + x1s;
      }
      for (int64_t i = 2 * half; i < d; ++i) o[i] = in[i];
    }
  });
}

}  // namespace longrope
