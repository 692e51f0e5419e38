// MethodScores: the perplexity and per-window NLLs of named methods (the baselines, candidates, the
// searched table as "longrope") on one set of windows, saved after each method. At 32k+ tokens on a
// CPU one method takes many minutes, so a resumed job skips those already scored.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace longrope {

struct MethodScore {
  double ppl = 0;                  // NaN: the method diverged
  std::vector<double> window_nll;  // mean NLL per window, in window order (for paired intervals)
};

class MethodScores {
 public:
  // Opens `path` (baselines.json, validation.json, heldout.json) for the windows named by `key`
  // (model, documents digest, length, dtype). With `resume`, keeps what a file written for the same
  // key holds; its "longrope" entry only if it was scored for the same `winner` (λ, n̂, attention
  // factor). A file written for other windows is recomputed, and `label` says so on stderr. The
  // windows' names are written beside the scores (longrope compare groups them by book).
  MethodScores(std::string path, nlohmann::json key, nlohmann::json winner, std::vector<std::string> windows, bool resume,
               const std::string& label);

  // Nothing for a method never scored, or scored by an older longrope that kept no window NLLs.
  std::optional<MethodScore> find(const std::string& method) const;
  void put(const std::string& method, const MethodScore& score);  // and rewrites the file atomically
  nlohmann::json ppl() const;                                     // {method: ppl}

 private:
  std::string path_;
  nlohmann::json key_;
  nlohmann::json winner_;
  std::vector<std::string> windows_;
  nlohmann::json ppl_ = nlohmann::json::object();
  nlohmann::json window_nll_ = nlohmann::json::object();
};

// Whether two keys name the same documents: equal, with the model compared as a canonical path.
bool same_documents_key(const nlohmann::json& saved, const nlohmann::json& now);

}  // namespace longrope
