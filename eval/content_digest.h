// Digests that identify what a score was computed from: the documents' token ids, a model's files,
// a text written by the tool. A saved score is reused only where these match (search runs, resumed
// evals).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "eval/documents.h"

namespace longrope {

// FNV-1a over the token ids and the BOS rule: identifies the documents a perplexity was computed on,
// however they were chosen (docs, sample seed, min tokens, tokenizer, BOS …).
std::string documents_digest(const std::vector<Document>& documents, const std::optional<int64_t>& bos);

// `path` made absolute, links resolved where it exists and "." and ".." removed: two names of one file
// give the same string.
std::string canonical_path(const std::string& path);

// Identifies a model's files wherever they lie (ranks on other nodes may hold copies at other paths):
// for a file, or each regular file of a directory but README.md, its name, size, and first and last
// MiB. Throws std::runtime_error naming a file it cannot read.
std::string model_files_digest(const std::string& path);

// FNV-1a 64 of `text` as 16 hex digits: the checksum of what the tool wrote.
std::string text_checksum(const std::string& text);

// `body` with a "checksum" of its dump added; and the check of one such object (false when absent
// or wrong).
nlohmann::json with_checksum(nlohmann::json body);
bool checksum_matches(const nlohmann::json& object);

}  // namespace longrope
