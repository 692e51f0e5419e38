// MethodScores: the perplexities of named methods (the baselines, and the searched table as
// "longrope") on one set of documents, saved after each method. At 32k+ tokens on a CPU one method
// takes many minutes, so a resumed job skips those already scored.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace longrope {

class MethodScores {
 public:
  // Opens `path` (baselines.json, heldout.json) for the documents named by `key` (model, documents
  // digest, length, dtype). With `resume`, keeps what a file written for the same key holds; its
  // "longrope" entry only if it was scored for the same `winner` (λ, n̂, attention factor). A file
  // written for other documents is recomputed, and `label` says so on stderr.
  MethodScores(std::string path, nlohmann::json key, nlohmann::json winner, bool resume, const std::string& label);

  std::optional<double> find(const std::string& method) const;  // NaN: the method diverged
  void put(const std::string& method, double ppl);                // and rewrites the file atomically
  const nlohmann::json& scores() const { return ppl_; }

 private:
  std::string path_;
  nlohmann::json key_;
  nlohmann::json winner_;
  nlohmann::json ppl_ = nlohmann::json::object();
};

// Whether two keys name the same documents: equal, with the model compared as a canonical path.
bool same_documents_key(const nlohmann::json& saved, const nlohmann::json& now);

}  // namespace longrope
