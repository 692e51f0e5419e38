// gnuplot scripts and data blocks.
#include "plot/plot.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "formats/atomic_file.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string terminal_for(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".png") return "pngcairo size 1000,640 enhanced font 'Sans,11'";
  if (ext == ".svg") return "svg size 1000,640 dynamic enhanced font 'Sans,11'";
  throw std::invalid_argument(path + ": plots are written as .png or .svg");
}

}  // namespace

std::string gnuplot_script(const PlotSpec& spec, const std::string& image, const std::string& data) {
  std::string s = fmt::format("set terminal {}\nset output {}\n", terminal_for(image), quoted(image));
  s += fmt::format("set title {}\nset xlabel {}\nset ylabel {}\n", quoted(spec.title), quoted(spec.x_label), quoted(spec.y_label));
  s += "set grid\nset key outside right top\nset datafile missing 'nan'\n";
  if (spec.log_x) s += "set logscale x 2\n";
  if (spec.log_y) s += "set logscale y\n";
  if (spec.x_min) s += fmt::format("set xrange [{}:*]\n", *spec.x_min);
  if (spec.marker_x) {
    s += fmt::format("set arrow from {0},graph 0 to {0},graph 1 nohead dashtype 2 linecolor rgb '#666666'\n", *spec.marker_x);
    s += fmt::format("set label {} at {},graph 0.97 right offset -0.5,0 textcolor rgb '#666666'\n", quoted(spec.marker_label), *spec.marker_x);
  }
  s += "plot ";
  for (size_t i = 0; i < spec.series.size(); ++i) {
    if (i) s += ", \\\n     ";
    s += fmt::format("{} index {} using 1:2 with {} linewidth 2 title {}", quoted(data), i,
                     spec.series[i].points ? "linespoints pointsize 0.8" : "lines", quoted(spec.series[i].title));
  }
  return s + "\n";
}

void render_plot(const PlotSpec& spec, const std::string& path) {
  if (spec.series.empty()) throw std::invalid_argument(path + ": nothing to plot");
  // Data blocks separated by two blank lines: gnuplot's `index`.
  std::string data;
  for (const PlotSeries& series : spec.series) {
    data += "# " + series.title + "\n";
    for (size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) data += fmt::format("{:.10g} {:.10g}\n", series.x[i], series.y[i]);
    data += "\n\n";
  }
  const std::string ext = fs::path(path).extension().string();
  const std::string tmp_image = path + ".tmp" + std::to_string(getpid()) + ext;
  formats::write_file_atomically(path + ".dat", data);
  formats::write_file_atomically(path + ".gp", gnuplot_script(spec, path, path + ".dat"));
  // Draw into a temp image, then rename: the script beside the image names the final path.
  const std::string run_script = path + ".tmp" + std::to_string(getpid()) + ".gp";
  formats::write_file_atomically(run_script, gnuplot_script(spec, tmp_image, path + ".dat"));
  const std::string command = fmt::format("gnuplot {} 2>&1", quoted(run_script));
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error(path + ": cannot start gnuplot");
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof buf, pipe)) output += buf;
  const int status = pclose(pipe);
  fs::remove(run_script);
  if (status != 0 || !fs::exists(tmp_image) || fs::file_size(tmp_image) == 0) {
    fs::remove(tmp_image);
    const std::string first = output.substr(0, output.find('\n'));
    throw std::runtime_error(fmt::format("{}: gnuplot failed{}", path,
                                         first.empty() ? " (is gnuplot installed? scripts/install-deps.sh)" : ": " + first));
  }
  fs::rename(tmp_image, path);
}

}  // namespace longrope
