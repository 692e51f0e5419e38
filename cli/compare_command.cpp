// longrope compare: the change of perplexity from B to A on the same windows, with the tool's one
// bootstrap interval (util/paired_bootstrap.h): over search seeds when a side lists several runs,
// then books (--group-by book), then windows.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "eval/window_scores.h"
#include "formats/atomic_file.h"
#include "formats/output_paths.h"
#include "util/paired_bootstrap.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace longrope {
namespace {

// One side: its runs' scores, checked to lie on the same windows as the first run read.
struct Side {
  std::vector<WindowScores> runs;

  std::vector<std::vector<double>> nll() const {
    std::vector<std::vector<double>> out;
    for (const WindowScores& r : runs) out.push_back(r.nll);
    return out;
  }
};

double ppl_of(const std::vector<double>& nll) {
  double sum = 0;
  for (double v : nll) sum += v;
  return std::exp(sum / static_cast<double>(nll.size()));
}

void check_same_windows(const WindowScores& first, const WindowScores& other) {
  if (other.nll.size() != first.nll.size())
    throw std::runtime_error(fmt::format("{}: {} windows, {} has {}: compare scores of the same windows", other.source, other.nll.size(),
                                         first.source, first.nll.size()));
  if (!first.windows.empty() && !other.windows.empty())
    for (size_t w = 0; w < first.windows.size(); ++w)
      if (first.windows[w] != other.windows[w])
        throw std::runtime_error(fmt::format("{}: window {} is '{}', {} has '{}': compare scores of the same windows", other.source, w,
                                             other.windows[w], first.source, first.windows[w]));
}

Side read_side(const std::string& list, const std::string& option) {
  Side side;
  for (const std::string& spec : split_list(list)) side.runs.push_back(read_window_scores(spec));
  if (side.runs.empty()) throw UsageError(option + " names no scores");
  return side;
}

json side_json(const Side& s) {
  json runs = json::array();
  double worst = 0;
  for (const WindowScores& r : s.runs) {
    runs.push_back({{"source", r.source}, {"ppl", ppl_of(r.nll)}});
    worst = std::max(worst, ppl_of(r.nll));
  }
  std::vector<double> pooled;
  for (const WindowScores& r : s.runs) pooled.insert(pooled.end(), r.nll.begin(), r.nll.end());
  return {{"ppl", ppl_of(pooled)}, {"worst_run_ppl", worst}, {"runs", runs}};
}

}  // namespace

int compare_command(const std::vector<std::string>& args) {
  std::string a_list, b_list, group_by = "window", json_out;
  int resamples = kBootstrapResamples;
  po::options_description o("Compare");
  o.add_options()
      ("a", po::value(&a_list)->required(), "scores of A: FILE[:METHOD[@LENGTH]] (an eval or curve --json, or a search target's "
                                             "baselines/validation/heldout.json); several, comma-separated, are its runs (search seeds)")
      ("b", po::value(&b_list)->required(), "scores of B, as for A")
      ("group-by", po::value(&group_by)->default_value(group_by),
       "window (resample windows) or book (resample books, then their windows: windows named PATH@WINDOW); runs are always "
       "resampled first when a side has several")
      ("resamples", po::value(&resamples)->default_value(resamples), "bootstrap resamples (seeded: the same interval on every machine)")
      ("json", po::value(&json_out), "also write the comparison as JSON to this file");
  po::positional_options_description positional;
  positional.add("a", 1).add("b", 1);
  if (!parse_command_line("compare", "A B [--group-by window|book] [--json FILE]", args, o, nullptr, &positional)) return 0;
  if (group_by != "window" && group_by != "book") throw UsageError("--group-by: '" + group_by + "' is not window or book");
  if (resamples < 100 || resamples > 1000000) throw UsageError(fmt::format("--resamples must be in [100, 10^6], got {}", resamples));
  const Side a = read_side(a_list, "A"), b = read_side(b_list, "B");
  if (!json_out.empty()) {
    std::vector<formats::ReadPath> inputs;
    for (const Side* side : {&a, &b})
      for (const WindowScores& r : side->runs) inputs.push_back({"A or B", r.file});
    formats::check_output_files("--json", {json_out}, inputs);
  }
  const WindowScores& first = a.runs.front();
  for (const Side* side : {&a, &b})
    for (const WindowScores& r : side->runs) check_same_windows(first, r);
  PairedScores scores{a.nll(), b.nll(), {}};
  if (group_by == "book") {
    if (first.windows.empty()) throw std::runtime_error(first.source + ": records no window names, so windows cannot be grouped by book");
    scores.group = groups_by_book(first.windows);
  }
  const RelativeChange c = hierarchical_bootstrap(scores, resamples);
  const int64_t books = scores.group.empty() ? 0 : *std::max_element(scores.group.begin(), scores.group.end()) + 1;
  const std::string levels = fmt::format("{}{}windows", a.runs.size() > 1 || b.runs.size() > 1 ? "runs, " : "",
                                         group_by == "book" ? "books, " : "");
  const json ja = side_json(a), jb = side_json(b);
  fmt::print("A  ppl {:.4f}  ({} run{}, worst {:.4f})\nB  ppl {:.4f}  ({} run{}, worst {:.4f})\n", ja["ppl"].get<double>(), a.runs.size(),
             a.runs.size() == 1 ? "" : "s", ja["worst_run_ppl"].get<double>(), jb["ppl"].get<double>(), b.runs.size(),
             b.runs.size() == 1 ? "" : "s", jb["worst_run_ppl"].get<double>());
  fmt::print("A vs B: {}  ({} windows{}; A lower on {}; bootstrap over {}, {} resamples)\n", format_change(c), c.windows,
             books ? fmt::format(" of {} books", books) : "", c.a_better, levels, resamples);
  if (!json_out.empty()) {
    const json j = {{"a", ja}, {"b", jb}, {"change", c.estimate}, {"low", c.low}, {"high", c.high}, {"a_better_windows", c.a_better},
                    {"windows", c.windows}, {"books", books}, {"group_by", group_by}, {"resampled", levels}, {"resamples", resamples},
                    {"seed", kBootstrapSeed}};
    formats::write_file_atomically(json_out, j.dump(2) + "\n");
  }
  return 0;
}

}  // namespace longrope
