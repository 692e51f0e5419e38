// λ as a smooth function of free parameters, for gradient steps that can never leave the search
// space: with increments e_j = softplus(u_j) > 0 for j = 0 .. d/2 (one more than there are pairs),
//   λ_i = 1 + (λ_max − 1) · (e_0 + … + e_i) / (e_0 + … + e_{d/2}),
// λ is non-decreasing and inside (1, λ_max) for every real u. The last increment is the room left
// below λ_max.
#pragma once

#include <vector>

namespace longrope {

std::vector<double> monotone_lambda(const std::vector<double>& u, double lambda_max);

// A u whose λ is `lambda` (non-decreasing, in [1, λ_max]) up to `floor`: an increment of 0 (equal
// neighbours, λ_0 = 1 or λ = λ_max) becomes `floor`·(λ_max − 1), so a start point lies inside.
std::vector<double> monotone_lambda_inverse(const std::vector<double>& lambda, double lambda_max, double floor = 1e-6);

// ∂f/∂u from ∂f/∂λ at u (the chain rule through monotone_lambda).
std::vector<double> monotone_lambda_chain(const std::vector<double>& u, double lambda_max, const std::vector<double>& df_dlambda);

}  // namespace longrope
