// The per-method perplexity file of a search target.
#include "search/method_scores.h"

#include <fmt/format.h>

#include <filesystem>

#include "formats/atomic_file.h"
#include "formats/json_file.h"
#include "search/run_fingerprint.h"
#include "search/search_checkpoint.h"

namespace longrope {

using nlohmann::json;

bool same_documents_key(const json& saved, const json& now) {
  if (!saved.is_object() || !now.is_object()) return false;
  json a = saved, b = now;
  for (json* k : {&a, &b}) {
    if (!k->contains("model") || !(*k)["model"].is_string()) continue;
    (*k)["model"] = canonical_path((*k)["model"].get<std::string>());
  }
  return a == b;
}

MethodScores::MethodScores(std::string path, json key, json winner, std::vector<std::string> windows, bool resume,
                           const std::string& label)
    : path_(std::move(path)), key_(std::move(key)), winner_(std::move(winner)), windows_(std::move(windows)) {
  if (!resume || !std::filesystem::exists(path_)) return;
  const json saved = formats::read_json_file(path_);
  if (!same_documents_key(saved.value("key", json()), key_)) {
    fmt::print(stderr, "{}: {} was written for other documents; recomputing\n", label, path_);
    return;
  }
  const json nll = saved.value("window_nll", json::object());
  for (const auto& [method, value] : saved.at("ppl").items())
    if ((method != "longrope" || saved.value("winner", json()) == winner_) && nll.contains(method)) {
      ppl_[method] = value;
      window_nll_[method] = nll[method];
    }
}

std::optional<MethodScore> MethodScores::find(const std::string& method) const {
  if (!ppl_.contains(method)) return std::nullopt;
  MethodScore s{score_from_json(ppl_[method]), {}};
  for (const json& x : window_nll_[method]) s.window_nll.push_back(score_from_json(x));
  return s;
}

void MethodScores::put(const std::string& method, const MethodScore& score) {
  ppl_[method] = score.ppl;
  window_nll_[method] = score.window_nll;
  formats::write_file_atomically(
      path_, json{{"key", key_}, {"winner", winner_}, {"ppl", ppl_}, {"window_nll", window_nll_}, {"windows", windows_}}.dump(2) + "\n");
}

json MethodScores::ppl() const { return ppl_; }

}  // namespace longrope
