// Seed tables.
#include "search/seeds.h"

namespace longrope {

std::vector<SeedTable> search_seeds(const RopeGeometry& g, double scale) {
  return {{"pi", rope_pi(g, scale).lambda},
          {"ntk", rope_ntk(g, scale).lambda},
          {"yarn", rope_yarn(g, scale).lambda},
          {"yarn-shaped", yarn_shaped_lambda(g, scale)}};
}

}  // namespace longrope
