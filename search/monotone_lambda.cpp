// softplus increments, their prefix sums and the chain rule by hand (torch-free: the search core).
#include "search/monotone_lambda.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace longrope {
namespace {

double softplus(double x) { return x > 30 ? x : std::log1p(std::exp(x)); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double softplus_inverse(double y) { return y > 30 ? y : std::log(std::expm1(y)); }

}  // namespace

std::vector<double> monotone_lambda(const std::vector<double>& u, double lambda_max) {
  if (u.size() < 2) throw std::invalid_argument("monotone λ needs at least one pair and the room above it");
  std::vector<double> prefix(u.size());
  double total = 0;
  for (size_t j = 0; j < u.size(); ++j) prefix[j] = total += softplus(u[j]);
  std::vector<double> lambda(u.size() - 1);
  // min(): P_i/T can round one ulp above 1 when the room above is negligible.
  for (size_t i = 0; i < lambda.size(); ++i) lambda[i] = std::min(lambda_max, 1.0 + (lambda_max - 1.0) * prefix[i] / total);
  return lambda;
}

std::vector<double> monotone_lambda_inverse(const std::vector<double>& lambda, double lambda_max, double floor) {
  if (lambda.empty() || !(lambda_max > 1)) throw std::invalid_argument("monotone λ needs pairs and λ_max > 1");
  // Increments as fractions of λ_max − 1 (they sum to 1); the floors' excess comes off the largest.
  std::vector<double> share;
  double previous = 1.0, excess = 0;
  for (size_t i = 0; i <= lambda.size(); ++i) {
    const double next = std::max(previous, i < lambda.size() ? std::clamp(lambda[i], 1.0, lambda_max) : lambda_max);
    const double exact = (next - previous) / (lambda_max - 1.0);
    share.push_back(std::max(exact, floor));
    excess += share.back() - exact;
    previous = next;
  }
  *std::max_element(share.begin(), share.end()) -= excess;
  std::vector<double> u;
  for (double e : share) u.push_back(softplus_inverse(e));
  return u;
}

std::vector<double> monotone_lambda_chain(const std::vector<double>& u, double lambda_max, const std::vector<double>& df_dlambda) {
  if (df_dlambda.size() + 1 != u.size()) throw std::invalid_argument("one more parameter than there are pairs");
  // λ_i = 1 + c·P_i/T, P_i = Σ_{j<=i} e_j, T = Σ_all e_j, e_j = softplus(u_j):
  // ∂λ_i/∂e_j = c·([j <= i]·T − P_i)/T², so ∂f/∂e_j = c/T·(Σ_{i>=j} g_i) − c/T²·Σ_i g_i·P_i.
  const double c = lambda_max - 1.0;
  std::vector<double> prefix(u.size());
  double total = 0;
  for (size_t j = 0; j < u.size(); ++j) prefix[j] = total += softplus(u[j]);
  double weighted = 0;
  for (size_t i = 0; i < df_dlambda.size(); ++i) weighted += df_dlambda[i] * prefix[i];
  std::vector<double> out(u.size());
  double suffix = 0;  // Σ_{i>=j} g_i
  for (size_t j = u.size(); j-- > 0;) {
    if (j < df_dlambda.size()) suffix += df_dlambda[j];
    out[j] = (c / total * suffix - c / (total * total) * weighted) * sigmoid(u[j]);
  }
  return out;
}

}  // namespace longrope
