// Needle documents, for the needle-driven objective of LongRoPE2 (arXiv 2502.20082): plain perplexity
// is dominated by local text, so each window carries a short fact with a random number ("the special
// magic number is 41551") at a depth spread over the windows, and ends with the question and its
// answer; only the answer's tokens are scored, so a scaling is judged by what it retrieves across the
// window.
#pragma once

#include <cstdint>
#include <vector>

#include "eval/documents.h"
#include "eval/open_evaluation.h"

namespace longrope {

// Each window (exactly the window's tokens long) becomes a document of the same length: its text,
// cut short to make room, with the needle at depth (i + 0.5) / n for window i of n, then the question
// and the answer, whose tokens alone are scored. The numbers come from `seed`. Throws InvalidSetting
// when a window cannot hold the needle, the question and the answer with text around them.
std::vector<Document> needle_documents(const EvaluationSetup& setup, const std::vector<Document>& windows, uint64_t seed);

}  // namespace longrope
