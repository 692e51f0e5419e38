// longrope plot: figures from curve, table and search outputs (PNG and SVG, via gnuplot).
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "plot/figures.h"
#include "plot/plot.h"

namespace po = boost::program_options;

namespace longrope {

int plot_command(const std::vector<std::string>& args) {
  std::string curve, sweep, tables, targets, set, progress, passkey, out;
  po::options_description o("Plot");
  o.add_options()
      ("curve", po::value(&curve), "a `longrope curve` JSON: perplexity vs length per method")
      ("sweep", po::value(&sweep), "a `longrope sweep-theta` JSON: perplexity vs RoPE base")
      ("tables", po::value(&tables), "factor tables (comma-separated): λ vs dimension, with PI, NTK and YaRN")
      ("targets", po::value(&targets),
       "searched tables (comma-separated, one per length): perplexity vs length of every baseline and the searched table")
      ("set", po::value(&set)->default_value("heldout"), "with --targets: heldout or search")
      ("progress", po::value(&progress), "search generations.jsonl files (comma-separated): best perplexity per generation")
      ("passkey", po::value(&passkey), "`longrope passkey` JSONs (comma-separated, joined): accuracy vs prompt length per method")
      ("out", po::value(&out)->required(), "image files, comma-separated (.png and/or .svg)");
  if (!parse_command_line("plot", "(--curve C.json | --sweep S.json | --tables T.json,... | --targets T.json,... | --progress G.jsonl,... | --passkey P.json,...) "
                         "--out FIG.png[,FIG.svg]", args, o))
    return 0;
  const int kinds = !curve.empty() + !sweep.empty() + !tables.empty() + !targets.empty() + !progress.empty() + !passkey.empty();
  if (kinds != 1) throw UsageError("give exactly one of --curve, --sweep, --tables, --targets, --progress, --passkey");
  if (split_list(out).empty()) throw UsageError("--out is empty");
  for (const auto& [option, list] : {std::pair{"--tables", tables}, {"--targets", targets}, {"--progress", progress}, {"--passkey", passkey}})
    if (!list.empty() && split_list(list).empty()) throw UsageError(fmt::format("{} lists no file", option));
  std::vector<formats::ReadPath> inputs;
  for (const auto& [option, list] : {std::pair{"--curve", curve}, {"--sweep", sweep}, {"--tables", tables}, {"--targets", targets},
                                     {"--progress", progress}, {"--passkey", passkey}})
    for (const std::string& file : split_list(list)) inputs.push_back({option, file});
  check_plot_paths(split_list(out), inputs);
  const PlotSpec spec = !curve.empty()   ? curve_plot(curve)
                        : !sweep.empty() ? sweep_plot(sweep)
                        : !tables.empty() ? lambda_plot(split_list(tables))
                        : !targets.empty() ? targets_plot(split_list(targets), set)
                        : !passkey.empty() ? passkey_plot(split_list(passkey))
                                          : progress_plot(split_list(progress));
  for (const std::string& path : split_list(out)) {
    render_plot(spec, path);
    fmt::print("wrote {} ({} series)\n", path, spec.series.size());
  }
  return 0;
}

}  // namespace longrope
