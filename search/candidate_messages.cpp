// JSON numbers round-trip finite doubles exactly (nlohmann writes 17 significant digits); infinities
// and NaN, which JSON lacks, travel as strings.
#include "search/candidate_messages.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace longrope {

using nlohmann::json;

namespace {

json number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return x;
}

double number_from(const json& v) {
  if (v.is_number()) return v.get<double>();
  const std::string s = v.get<std::string>();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  throw std::runtime_error("not a number: " + s);
}

json numbers(const std::vector<double>& xs) {
  json out = json::array();
  for (double x : xs) out.push_back(number(x));
  return out;
}

std::vector<double> numbers_from(const json& v) {
  std::vector<double> out;
  for (const json& x : v) out.push_back(number_from(x));
  return out;
}

template <typename Read>
auto parsed(const std::string& text, const char* what, Read read) {
  try {
    return read(json::parse(text));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("malformed ") + what + " message: " + e.what());
  }
}

}  // namespace

std::string work_message(const WorkOrder& order) {
  json group = json::array();
  for (const Genome& g : order.group)
    group.push_back({{"grid", g.grid}, {"start_tokens", g.start_tokens}, {"alpha", g.alpha}, {"beta", g.beta}});
  return json{{"target", order.target}, {"group", group},
              {"cutoff", {{"score", number(order.cutoff.score)}, {"document_nll", numbers(order.cutoff.document_nll)}}}}
      .dump();
}

WorkOrder read_work_message(const std::string& text) {
  return parsed(text, "work", [](const json& m) {
    WorkOrder order;
    order.target = m.at("target").get<size_t>();
    for (const json& g : m.at("group"))
      order.group.push_back({g.at("grid").get<std::vector<int32_t>>(), g.at("start_tokens").get<int64_t>(), g.at("alpha").get<int32_t>(),
                             g.at("beta").get<int32_t>()});
    order.cutoff.score = number_from(m.at("cutoff").at("score"));
    order.cutoff.document_nll = numbers_from(m.at("cutoff").at("document_nll"));
    return order;
  });
}

std::string result_message(const WorkResult& result) {
  json evaluations = json::array();
  for (const Evaluation& e : result.evaluations)
    evaluations.push_back({{"score", number(e.score)}, {"forwards", e.forwards}, {"raced_out", e.raced_out},
                           {"document_nll", numbers(e.document_nll)}});
  return json{{"evaluations", evaluations}, {"seconds", result.seconds}}.dump();
}

WorkResult read_result_message(const std::string& text) {
  return parsed(text, "result", [](const json& m) {
    WorkResult out;
    for (const json& e : m.at("evaluations"))
      out.evaluations.push_back({number_from(e.at("score")), e.at("forwards").get<int64_t>(), e.at("raced_out").get<bool>(),
                                 numbers_from(e.at("document_nll"))});
    out.seconds = m.at("seconds").get<double>();
    return out;
  });
}

}  // namespace longrope
