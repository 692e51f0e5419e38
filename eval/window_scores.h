// A method's mean NLL on each of its named windows, read back from any file the tool writes scores to:
// an eval or curve --json (each result's windows), or a search target's baselines.json, validation.json
// or heldout.json. `longrope compare` pairs two of them window by window.
#pragma once

#include <string>
#include <vector>

namespace longrope {

struct WindowScores {
  std::string source;                // FILE:METHOD as given
  std::string file;                  // FILE alone
  std::vector<std::string> windows;  // names (PATH@WINDOW); empty where the file records none
  std::vector<double> nll;           // mean NLL per window, in window order
};

// `spec` is FILE, FILE:METHOD or, for a curve, FILE:METHOD@LENGTH, FILE:METHOD@FROM-TO (every length in
// that range, in the file's order: the mean over the lengths a deployment serves) or FILE:METHOD@*
// (every length); a file holding one method needs no
// METHOD, and METHOD may hold colons (table:T.json). Throws std::runtime_error naming the file and
// the field, or listing the methods it holds.
WindowScores read_window_scores(const std::string& spec);

}  // namespace longrope
