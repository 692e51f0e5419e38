// RunFingerprint: what a search run's saved scores depend on (model, documents, target, settings), so
// that a resume which would mix in scores of something else is refused, naming what differs. The
// state file, the evaluation journal and a finished table all carry it and are compared by one rule.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "eval/content_digest.h"
#include "eval/documents.h"

namespace longrope {

// Version of the files that carry a fingerprint (state.json, evaluations.jsonl, a table's settings).
// 1: before the documents digest, racing and checksums; read through migrate_fingerprint.
// 2: every field below, and checksums on state and journal lines.
inline constexpr int kRunFileVersion = 2;

struct RunFingerprint {
  std::string model;                  // the model's path as given; compared as a canonical path
  std::string data;                   // the search documents' path as given; not compared (the digest is)
  std::string documents;              // documents_digest of the scored windows
  int64_t target_length = 0;
  int64_t docs = 0;
  std::string dtype;
  int population = 0;
  int mutants = 0;
  int crossovers = 0;
  int parents = 0;
  uint64_t seed = 0;
  std::string bound;                  // paper | reference
  double step = 0;                    // λ grid step
  double mutation_probability = 0;
  bool search_start_tokens = true;    // n̂ searched (false: n̂ = 0)
  int64_t critical_dim = 0;           // pairs below it not searched (0: off; absent in older files)
  std::string space = "paper";        // paper | piecewise (absent in older files: paper)
  std::optional<std::vector<double>> init_table;  // λ of the table the search was seeded from
  bool compose = false;
  std::optional<double> race_margin;  // racing off when unset
  std::string optimizer = "evolution";  // evolution | gradient | both (absent in older files: evolution)
  nlohmann::json gradient;            // the gradient steps' settings (null without them)
  std::string deploy;                 // the runtime a deployment is searched for (empty: none; absent in older files)
  std::vector<int64_t> serve_lengths; // its serve lengths (empty without one)
  // Where the winner is chosen and how: they decide the table a finished run writes. Each is written
  // only when it is not the default, so that files of earlier runs (which lack them) compare as before.
  std::string objective = "ppl";         // --objective (ppl or needle)
  std::string validation = "auto";       // --validation: auto, none, or "directory <documents digest>"
  int64_t validate_top = 4;              // --validate-top
  bool single_table = false;             // --single-table
  bool sliding_window = true;            // --sliding-window (a Mistral model's window honoured)

  // Not the generation count: the search draws nothing from it, so a resume with a larger count
  // extends a search exactly as if it had been asked for at the start.
  nlohmann::json to_json() const;

  // " field (was X, now Y)" for every field in which a saved run (this) and the current one differ;
  // empty when a resume may go on.
  std::string differences(const RunFingerprint& now) const;
};

// Reads a fingerprint written by a file of `version`. Version 1 files lack the documents digest (their
// model, data and docs named the documents) and racing: the digest is taken from `now`, racing is
// off. Throws std::runtime_error naming `source` for a malformed one.
RunFingerprint read_fingerprint(const nlohmann::json& saved, int version, const RunFingerprint& now, const std::string& source);

}  // namespace longrope
