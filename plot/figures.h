// The figures of `longrope plot`, built from the tool's own outputs. Each throws std::runtime_error
// naming the file and field of an input that is not what it should be.
#pragma once

#include <string>
#include <vector>

#include "plot/plot.h"

namespace longrope {

// Perplexity against length, one series per method, log scales, the original length marked (a
// `longrope curve` JSON).
PlotSpec curve_plot(const std::string& curve_json);
// Perplexity against the RoPE base, the model's own base marked (a `longrope sweep-theta` JSON).
PlotSpec sweep_plot(const std::string& sweep_json);
// λ against dimension for each table, with PI, NTK and YaRN for the first table's geometry; with
// tables for several scales, YaRN at each scale.
PlotSpec lambda_plot(const std::vector<std::string>& tables);
// Perplexity at each searched length, one series per method, from the tables themselves (no forward):
// `set` is "heldout" or "search" (InvalidSetting "set" otherwise; "targets" for two tables of one length).
PlotSpec targets_plot(const std::vector<std::string>& tables, const std::string& set);
// Passkey accuracy against prompt length, one series per method, from one or more `longrope passkey`
// JSONs (a method's points from several files join one series).
PlotSpec passkey_plot(const std::vector<std::string>& passkey_jsons);
// Best (and parents' mean) perplexity per generation, a pair of series per generations.jsonl.
PlotSpec progress_plot(const std::vector<std::string>& generation_logs);

}  // namespace longrope
