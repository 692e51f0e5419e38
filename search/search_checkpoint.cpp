// JSON encoding of the search state.
#include "search/search_checkpoint.h"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "formats/atomic_file.h"

namespace longrope {
namespace {

using nlohmann::json;

json genome_json(const Genome& g) { return {{"steps", g.steps}, {"start_tokens", g.start_tokens}}; }

std::vector<double> numbers(const json& v) {
  std::vector<double> out;
  for (const json& x : v) out.push_back(score_from_json(x));
  return out;
}

Genome genome_from(const json& j) {
  Genome g;
  g.steps = j.at("steps").get<std::vector<int32_t>>();
  g.start_tokens = j.at("start_tokens").get<int64_t>();
  return g;
}

}  // namespace

std::string fingerprint_diff(const json& saved, const json& expected) {
  json was = saved, now = expected;
  was.erase("generations");
  if (!was.contains("documents")) now.erase("documents");
  std::string diff;
  for (const auto& [k, v] : now.items())
    if (!was.contains(k) || was[k] != v) diff += fmt::format(" {} (was {}, now {})", k, was.value(k, json()).dump(), v.dump());
  for (const auto& [k, v] : was.items())
    if (!now.contains(k)) diff += fmt::format(" {} (was {}, now null)", k, v.dump());
  return diff;
}

double score_from_json(const json& v) { return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>(); }

json candidate_to_json(const Candidate& c, const SearchSpace& space) {
  return {{"ppl", c.score}, {"lambda", c.genome.lambda(space)}, {"start_tokens", c.genome.start_tokens}};
}

void write_search_state(const std::string& path, const SearchState& s, const json& fingerprint) {
  json population = json::array();
  for (const Candidate& c : s.population)
    population.push_back({{"genome", genome_json(c.genome)}, {"score", c.score}, {"document_nll", c.document_nll},
                          {"raced_out", c.raced_out}});
  json scores = json::object();
  for (const auto& [key, score] : s.scores) scores[key] = score;
  const json j = {{"format", "longrope-search-state"}, {"version", 1}, {"fingerprint", fingerprint},
                  {"completed_generations", s.completed_generations}, {"rng_state", s.rng_state},
                  {"evaluations", s.evaluations}, {"forwards", s.forwards}, {"raced_out", s.raced_out},
                  {"seconds", s.seconds}, {"population", population}, {"scores", scores}};
  formats::write_file_atomically(path, j.dump() + "\n");
}

SearchState read_search_state(const std::string& path, const json& expected) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (nothing to resume)");
  std::stringstream text;
  text << in.rdbuf();
  try {
    const json j = json::parse(text.str());
    if (j.at("format") != "longrope-search-state") throw std::runtime_error("field 'format': not a longrope search state");
    const std::string diff = fingerprint_diff(j.at("fingerprint"), expected);
    if (!diff.empty()) throw std::runtime_error("the run was started with other settings:" + diff);
    SearchState s;
    s.completed_generations = j.at("completed_generations").get<int>();
    s.rng_state = j.at("rng_state").get<std::string>();
    s.evaluations = j.at("evaluations").get<int64_t>();
    s.forwards = j.value("forwards", int64_t{0});  // absent in states written before racing existed
    s.raced_out = j.value("raced_out", int64_t{0});
    s.seconds = j.at("seconds").get<double>();
    for (const json& c : j.at("population"))
      s.population.push_back({genome_from(c.at("genome")), score_from_json(c.at("score")), numbers(c.value("document_nll", json::array())),
                              c.value("raced_out", false)});
    for (const auto& [key, score] : j.at("scores").items()) s.scores[key] = score_from_json(score);
    return s;
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("{}: malformed search state: {}", path, e.what()));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace longrope
