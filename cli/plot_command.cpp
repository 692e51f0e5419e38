// longrope plot: figures from curve, table and search outputs (PNG and SVG, via gnuplot).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "models/rope_scaling.h"
#include "results/factor_table.h"
#include "results/plot.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

namespace longrope {
namespace {

// Perplexity against length, one series per method, log scales, the original length marked.
PlotSpec curve_plot(const std::string& path) {
  const json j = read_json_file(path);
  if (!j.contains("results") || !j.contains("original_length"))
    throw std::runtime_error(path + ": field 'results': not a `longrope curve` output");
  std::map<std::string, PlotSeries> by_method;
  std::vector<std::string> order;
  for (const json& r : j["results"]) {
    const std::string m = r.at("method").get<std::string>();
    if (!by_method.count(m)) order.push_back(m);
    PlotSeries& s = by_method[m];
    s.title = m.rfind("table:", 0) == 0 ? "longrope (" + fs::path(m.substr(6)).parent_path().filename().string() + ")" : m;
    s.x.push_back(r.at("length").get<double>());
    s.y.push_back(r.at("ppl").get<double>());
  }
  PlotSpec p;
  p.title = fmt::format("Perplexity vs context length ({} documents)", j.value("documents", 0));
  p.x_label = "context length (tokens)";
  p.y_label = "perplexity";
  p.log_x = p.log_y = true;
  p.marker_x = j["original_length"].get<double>();
  p.marker_label = fmt::format("original length {}", j["original_length"].get<int64_t>());
  for (const std::string& m : order) p.series.push_back(by_method[m]);
  return p;
}

// Perplexity against the RoPE base, the model's own base marked.
PlotSpec sweep_plot(const std::string& path) {
  const json j = read_json_file(path);
  if (!j.contains("results") || !j.contains("trained_theta"))
    throw std::runtime_error(path + ": field 'results': not a `longrope sweep-theta` output");
  PlotSeries s;
  s.title = fmt::format("length {}", j.value("length", 0));
  for (const json& r : j["results"]) {
    s.x.push_back(r.at("theta").get<double>());
    s.y.push_back(r.at("ppl").get<double>());
  }
  PlotSpec p;
  p.title = fmt::format("Perplexity vs RoPE base θ ({} documents)", j.value("documents", 0));
  p.x_label = "RoPE base θ";
  p.y_label = "perplexity";
  p.log_x = p.log_y = true;
  p.marker_x = j["trained_theta"].get<double>();
  p.marker_label = fmt::format("trained θ {:g}", j["trained_theta"].get<double>());
  p.series.push_back(s);
  return p;
}

// λ against dimension for each table, with PI, NTK and YaRN for the first table's geometry.
PlotSpec lambda_plot(const std::vector<std::string>& paths) {
  PlotSpec p;
  p.x_label = "frequency index i (0 = highest frequency)";
  p.y_label = "rescale factor λ_i";
  p.log_y = true;
  std::optional<FactorTable> first;
  for (const std::string& path : paths) {
    const FactorTable t = read_factor_table(path);
    PlotSeries s;
    s.title = fmt::format("longrope {}{}", fs::path(path).parent_path().filename().string(),
                          t.start_tokens > 0 ? fmt::format(" (n̂={})", t.start_tokens) : "");
    for (size_t i = 0; i < t.lambda.size(); ++i) {
      s.x.push_back(static_cast<double>(i));
      s.y.push_back(t.lambda[i]);
    }
    p.series.push_back(s);
    if (!first) first = t;
  }
  if (first->rope_base > 0 && first->original_length > 0 && first->scale >= 1) {
    const RopeGeometry g{static_cast<int64_t>(first->lambda.size()) * 2, first->rope_base, first->original_length};
    const std::pair<const char*, std::vector<double>> refs[] = {{"PI", rope_pi(g, first->scale).lambda},
                                                                {"NTK", rope_ntk(g, first->scale).lambda},
                                                                {"YaRN", rope_yarn(g, first->scale).lambda}};
    for (const auto& [name, lambda] : refs) {
      PlotSeries s;
      s.title = name;
      s.points = false;
      for (size_t i = 0; i < lambda.size(); ++i) {
        s.x.push_back(static_cast<double>(i));
        s.y.push_back(lambda[i]);
      }
      p.series.push_back(s);
    }
    p.title = fmt::format("Rescale factors at s = {:g} (L = {}, base {:g})", first->scale, first->original_length, first->rope_base);
  } else {
    p.title = "Rescale factors";
  }
  return p;
}

// Best (and parents' mean) perplexity per generation, one pair of series per search log.
PlotSpec progress_plot(const std::vector<std::string>& paths) {
  PlotSpec p;
  p.title = "Search progress";
  p.x_label = "generation";
  p.y_label = "perplexity on the search set";
  p.log_y = true;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot open");
    PlotSeries best, mean;
    const std::string name = fs::path(path).parent_path().filename().string();
    best.title = name + " best";
    mean.title = name + " parents' mean";
    mean.points = false;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      try {
        const json r = json::parse(line);
        best.x.push_back(r.at("generation").get<double>());
        best.y.push_back(r.at("best_ppl").get<double>());
        mean.x.push_back(r.at("generation").get<double>());
        mean.y.push_back(r.at("parents_mean_ppl").get<double>());
      } catch (const json::exception& e) {
        throw std::runtime_error(fmt::format("{}: line {}: {}", path, line_no, e.what()));
      }
    }
    if (best.x.empty()) throw std::runtime_error(path + ": no generations logged");
    p.series.push_back(best);
    p.series.push_back(mean);
  }
  return p;
}

}  // namespace

int plot_command(const std::vector<std::string>& args) {
  std::string curve, sweep, tables, progress, out;
  po::options_description o("Plot");
  o.add_options()
      ("curve", po::value(&curve), "a `longrope curve` JSON: perplexity vs length per method")
      ("sweep", po::value(&sweep), "a `longrope sweep-theta` JSON: perplexity vs RoPE base")
      ("tables", po::value(&tables), "factor tables (comma-separated): λ vs dimension, with PI, NTK and YaRN")
      ("progress", po::value(&progress), "search generations.jsonl files (comma-separated): best perplexity per generation")
      ("out", po::value(&out)->required(), "image files, comma-separated (.png and/or .svg)");
  if (!parse_command_line("plot", "(--curve C.json | --sweep S.json | --tables T.json,... | --progress G.jsonl,...) --out FIG.png[,FIG.svg]", args, o))
    return 0;
  const int kinds = !curve.empty() + !sweep.empty() + !tables.empty() + !progress.empty();
  if (kinds != 1) throw std::invalid_argument("give exactly one of --curve, --sweep, --tables, --progress");
  const PlotSpec spec = !curve.empty()   ? curve_plot(curve)
                        : !sweep.empty() ? sweep_plot(sweep)
                        : !tables.empty() ? lambda_plot(split_list(tables))
                                          : progress_plot(split_list(progress));
  for (const std::string& path : split_list(out)) {
    render_plot(spec, path);
    fmt::print("wrote {} ({} series)\n", path, spec.series.size());
  }
  return 0;
}

}  // namespace longrope
