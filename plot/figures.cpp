// The figures of `longrope plot`, built from the tool's own outputs (curve and sweep JSON, factor
// tables, search logs). Reads files, draws nothing: render_plot does.
#include "plot/figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "tables/factor_table.h"
#include "formats/input_file.h"
#include "formats/json_file.h"
#include "rope/rope_scaling.h"
#include "util/errors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace longrope {

// A label per table path: its directory's name, with as many directories above it as two tables need
// to be told apart (run1/8x-2048 and run2/8x-2048), so that no two series share a legend entry.
static std::vector<std::string> table_labels(const std::vector<std::string>& paths) {
  std::vector<size_t> depth(paths.size(), 1);
  const auto label = [&](size_t i) {
    fs::path dir = fs::path(paths[i]).parent_path(), out;
    std::vector<std::string> parts;
    for (size_t k = 0; k < depth[i] && !dir.empty() && dir.filename() != ""; ++k, dir = dir.parent_path())
      parts.insert(parts.begin(), dir.filename().string());
    for (const std::string& part : parts) out /= part;
    return out.empty() ? paths[i] : out.string();
  };
  for (size_t round = 0; round < 16; ++round) {
    bool clash = false;
    for (size_t i = 0; i < paths.size(); ++i)
      for (size_t j = i + 1; j < paths.size(); ++j)
        if (paths[i] != paths[j] && label(i) == label(j)) ++depth[i], ++depth[j], clash = true;
    if (!clash) break;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < paths.size(); ++i) out.push_back(label(i));
  return out;
}

// One series per method of a curve or passkey output, in the order the methods first appear: x is
// the length, y the field `y_field` times `y_scale`.
static std::vector<PlotSeries> series_by_method(const json& results, const char* y_field, double y_scale) {
  std::map<std::string, PlotSeries> by_method;
  std::vector<std::string> order, tables;
  for (const json& r : results) {
    const std::string m = r.at("method").get<std::string>();
    if (!by_method.count(m)) order.push_back(m);
    if (!by_method.count(m) && m.rfind("table:", 0) == 0) tables.push_back(m.substr(6));
    PlotSeries& s = by_method[m];
    s.title = m;
    s.x.push_back(r.at("length").get<double>());
    s.y.push_back(y_scale * r.at(y_field).get<double>());
  }
  const std::vector<std::string> labels = table_labels(tables);
  for (size_t i = 0; i < tables.size(); ++i) by_method["table:" + tables[i]].title = "longrope (" + labels[i] + ")";
  std::vector<PlotSeries> out;
  for (const std::string& m : order) out.push_back(by_method[m]);
  return out;
}

// Perplexity against length, one series per method, log scales, the original length marked.
static PlotSpec curve_plot_unchecked(const std::string& path) {
  const json j = formats::read_json_file(path);
  if (!j.contains("results") || !j.contains("original_length"))
    throw std::runtime_error(path + ": field 'results': not a `longrope curve` output");
  PlotSpec p;
  p.series = series_by_method(j["results"], "ppl", 1.0);
  p.title = fmt::format("Perplexity vs context length ({} documents)", j.value("documents", 0));
  p.x_label = "context length (tokens)";
  p.y_label = "perplexity";
  p.log_x = p.log_y = true;
  p.marker_x = j["original_length"].get<double>();
  p.marker_label = fmt::format("original length {}", j["original_length"].get<int64_t>());
  return p;
}

// Perplexity against the RoPE base, the model's own base marked.
static PlotSpec sweep_plot_unchecked(const std::string& path) {
  const json j = formats::read_json_file(path);
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

// One value per frequency index i.
namespace {

PlotSeries by_index(std::string title, const std::vector<double>& lambda, bool points) {
  PlotSeries s;
  s.title = std::move(title);
  s.points = points;
  for (size_t i = 0; i < lambda.size(); ++i) {
    s.x.push_back(static_cast<double>(i));
    s.y.push_back(lambda[i]);
  }
  return s;
}

}  // namespace

// λ against dimension for each table, with PI, NTK and YaRN for the first table's geometry; with
// tables for several scales, YaRN at each scale (all three at every scale would bury the tables).
PlotSpec lambda_plot(const std::vector<std::string>& paths) {
  PlotSpec p;
  p.x_label = "frequency index i (0 = highest frequency)";
  p.y_label = "rescale factor λ_i";
  p.log_y = true;
  std::optional<FactorTable> first;
  std::set<double> scales;
  const std::vector<std::string> labels = table_labels(paths);
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& path = paths[i];
    const FactorTable t = read_factor_table(path);
    p.series.push_back(by_index(fmt::format("longrope {}{}", labels[i],
                                            t.start_tokens > 0 ? fmt::format(" (n̂={})", t.start_tokens) : ""),
                                t.lambda, true));
    if (!first) first = t;
    if (t.scale > 1) scales.insert(t.scale);  // a short table (s = 1) has no YaRN to compare with
  }
  p.title = "Rescale factors";
  if (first->rope_base <= 0 || first->original_length <= 0) return p;
  const RopeGeometry g = table_geometry(*first);
  std::string listed;
  if (scales.size() > 1) {
    for (double scale : scales) {
      p.series.push_back(by_index(fmt::format("YaRN s = {:g}", scale), rope_yarn(g, scale).lambda, false));
      listed += fmt::format("{}{:g}", listed.empty() ? "" : ", ", scale);
    }
  } else if (first->scale >= 1) {
    p.series.push_back(by_index("PI", rope_pi(g, first->scale).lambda, false));
    p.series.push_back(by_index("NTK", rope_ntk(g, first->scale).lambda, false));
    p.series.push_back(by_index("YaRN", rope_yarn(g, first->scale).lambda, false));
    listed = fmt::format("{:g}", first->scale);
  } else {
    return p;
  }
  p.title = fmt::format("Rescale factors at s = {} (L = {}, base {:g})", listed, first->original_length, first->rope_base);
  return p;
}

// Perplexity at each searched length, one series per method: every baseline and the table searched
// for that length, as measured by `longrope search` (held-out set, or the search set). The points
// come from the tables themselves, so the figure costs no forward.
PlotSpec targets_plot(const std::vector<std::string>& paths, const std::string& set) {
  if (set != "heldout" && set != "search") throw InvalidSetting("set", "must be heldout or search, got '" + set + "'");
  std::map<std::string, std::map<double, double>> by_method;  // method -> length -> perplexity, in length order
  std::vector<std::string> order;  // the baselines in their usual order, then the searched tables
  for (const RopeMethod m : baseline_methods()) order.push_back(method_name(m));
  order.push_back("longrope");
  int64_t original = 0, fewest_documents = INT64_MAX, most_documents = 0;
  for (const std::string& path : paths) {
    const FactorTable t = read_factor_table(path);
    json ppl;
    int64_t documents = 0;
    if (set == "heldout") {
      if (!t.details.contains("heldout_ppl")) throw std::runtime_error(path + ": field 'heldout_ppl': searched without --heldout");
      ppl = t.details["heldout_ppl"];
      documents = t.details.value("heldout_documents", int64_t{0});
    } else {
      if (!t.details.contains("search_baselines_ppl") || !t.details.contains("search_ppl"))
        throw std::runtime_error(path + ": field 'search_baselines_ppl': not a `longrope search` table");
      ppl = t.details["search_baselines_ppl"];
      ppl["longrope"] = t.details["search_ppl"];
      documents = t.details.value("search_documents", int64_t{0});
    }
    if (original == 0) original = t.original_length;
    fewest_documents = std::min(fewest_documents, documents);
    most_documents = std::max(most_documents, documents);
    for (const auto& [method, value] : ppl.items()) {
      if (!value.is_number()) continue;  // a diverged method: nothing to draw
      if (std::find(order.begin(), order.end(), method) == order.end()) order.push_back(method);
      if (!by_method[method].emplace(static_cast<double>(t.target_length), value.get<double>()).second)
        throw InvalidSetting("targets", fmt::format("{}: a second table for length {}", path, t.target_length));
    }
  }
  PlotSpec p;
  const std::string documents = fewest_documents == most_documents ? std::to_string(most_documents)
                                                                    : fmt::format("{}–{}", fewest_documents, most_documents);
  p.title = fmt::format("Perplexity at the searched lengths ({} set, {} document{})", set == "heldout" ? "held-out" : "search",
                        documents, most_documents == 1 ? "" : "s");
  p.x_label = "context length (tokens)";
  p.y_label = "perplexity";
  p.log_x = p.log_y = true;
  if (original > 0) {  // every target lies beyond L: widen the axis so that its marker shows
    p.marker_x = static_cast<double>(original);
    p.marker_label = fmt::format("L = {}", original);
    p.x_min = original / 1.5;
  }
  for (const std::string& m : order) {
    if (!by_method.count(m)) continue;
    PlotSeries s;
    s.title = m == "longrope" ? "longrope (searched per length)" : m;
    for (const auto& [length, ppl] : by_method[m]) {
      s.x.push_back(length);
      s.y.push_back(ppl);
    }
    p.series.push_back(s);
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
  const std::vector<std::string> labels = table_labels(paths);
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& path = paths[i];
    // A regular file, read whole (formats/input_file.h): a FIFO would block forever, /dev/zero never end.
    std::istringstream in(formats::read_regular_file(path));
    PlotSeries best, mean;
    const std::string& name = labels[i];
    best.title = name + " best";
    mean.title = name + " parents' mean";
    mean.points = false;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      const std::string where = fmt::format("{}: line {}", path, line_no);
      const json r = formats::parse_json_text(line, where);
      const auto number = [&](const char* field) {
        if (!r.is_object() || !r.contains(field) || !r[field].is_number())
          throw std::runtime_error(fmt::format("{}: field '{}': missing or not a number", where, field));
        return r[field].get<double>();
      };
      best.x.push_back(number("generation"));
      best.y.push_back(number("best_ppl"));
      mean.x.push_back(number("generation"));
      mean.y.push_back(number("parents_mean_ppl"));
    }
    if (best.x.empty()) throw std::runtime_error(path + ": no generations logged");
    p.series.push_back(best);
    p.series.push_back(mean);
  }
  return p;
}

// A field of the wrong type or missing names the file, not just nlohmann's words.
template <typename F>
PlotSpec naming_file(const std::string& path, F&& build) {
  try {
    return build();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
  }
}

// Several passkey outputs make one figure (lengths run apart, e.g. a method left out at the longest):
// their results are read in order and each method's points sorted by length.
PlotSpec passkey_plot(const std::vector<std::string>& paths) {
  json results = json::array();
  int64_t fewest_samples = 0, most_samples = 0;
  PlotSpec p;
  for (const std::string& path : paths) {
    naming_file(path, [&] {
      const json j = formats::read_json_file(path);
      if (!j.contains("results") || !j.contains("samples") || !j["results"].is_array())
        throw std::runtime_error(path + ": field 'results': not a `longrope passkey` output");
      series_by_method(j["results"], "accuracy", 100.0);  // each file's fields checked while its name is known
      for (const json& r : j["results"]) results.push_back(r);
      const int64_t samples = j["samples"].get<int64_t>();
      fewest_samples = fewest_samples == 0 ? samples : std::min(fewest_samples, samples);
      most_samples = std::max(most_samples, samples);
      if (j.contains("original_length") && !p.marker_x) {
        p.marker_x = j["original_length"].get<double>();
        p.marker_label = fmt::format("L = {}", j["original_length"].get<int64_t>());
      }
      return p;
    });
  }
  p.series = series_by_method(results, "accuracy", 100.0);
  for (PlotSeries& s : p.series) {
    std::vector<std::pair<double, double>> points;
    for (size_t i = 0; i < s.x.size(); ++i) points.emplace_back(s.x[i], s.y[i]);
    std::sort(points.begin(), points.end());
    for (size_t i = 0; i < points.size(); ++i) std::tie(s.x[i], s.y[i]) = points[i];
  }
  const std::string samples =
      fewest_samples == most_samples ? std::to_string(most_samples) : fmt::format("{}–{}", fewest_samples, most_samples);
  p.title = fmt::format("Passkey retrieval ({} prompts per length)", samples);
  p.x_label = "prompt length (tokens)";
  p.y_label = "accuracy (%)";
  p.log_x = true;
  return p;
}

PlotSpec curve_plot(const std::string& path) { return naming_file(path, [&] { return curve_plot_unchecked(path); }); }
PlotSpec sweep_plot(const std::string& path) { return naming_file(path, [&] { return sweep_plot_unchecked(path); }); }

}  // namespace longrope
