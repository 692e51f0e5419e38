// gnuplot scripts and data blocks.
#include "plot/plot.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>
#include <vector>

#include "formats/atomic_file.h"
#include "util/errors.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n' || c == '\r') c = ' ';  // a title is one line of the script
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string terminal_for(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".png") return "pngcairo size 1000,640 enhanced font 'Sans,11'";
  if (ext == ".svg") return "svg size 1000,640 dynamic enhanced font 'Sans,11'";
  throw InvalidSetting("out", path + ": plots are written as .png or .svg");
}

// Removes its files when it goes: a plot that fails leaves none of its temp files.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    std::error_code ignored;
    for (const std::string& p : paths) fs::remove(p, ignored);
  }
};

}  // namespace

std::string gnuplot_script(const PlotSpec& spec, const std::string& image, const std::string& data) {
  std::string s = fmt::format("set terminal {}\nset output {}\n", terminal_for(image), quoted(image));
  s += fmt::format("set title {}\nset xlabel {}\nset ylabel {}\n", quoted(spec.title), quoted(spec.x_label), quoted(spec.y_label));
  s += "set grid\nset key outside right top\nset datafile missing 'nan'\n";
  if (spec.log_x) s += "set logscale x 2\n";
  if (spec.log_y) s += "set logscale y\n";
  if (spec.x_min) s += fmt::format("set xrange [{}:*]\n", *spec.x_min);
  if (spec.marker_x) {
    // The label goes on the side of the line with more room: left of it when the line sits in the right
    // half of the data's x range, else right of it (a line at the axis's left end would push it outside).
    double lo = *spec.marker_x, hi = *spec.marker_x;
    for (const PlotSeries& series : spec.series)
      for (double x : series.x) lo = std::min(lo, x), hi = std::max(hi, x);
    if (spec.x_min) lo = *spec.x_min;
    const auto position = [&](double x) { return spec.log_x ? std::log(std::max(x, 1e-300)) : x; };
    const bool room_left = position(*spec.marker_x) - position(lo) > position(hi) - position(*spec.marker_x);
    s += fmt::format("set arrow from {0},graph 0 to {0},graph 1 nohead dashtype 2 linecolor rgb '#666666'\n", *spec.marker_x);
    s += fmt::format("set label {} at {},graph 0.97 {} textcolor rgb '#666666'\n", quoted(spec.marker_label), *spec.marker_x,
                     room_left ? "right offset -0.5,0" : "left offset 0.5,0");
  }
  s += "plot ";
  for (size_t i = 0; i < spec.series.size(); ++i) {
    if (i) s += ", \\\n     ";
    s += fmt::format("{} index {} using 1:2 with {} linewidth 2 title {}", quoted(data), i,
                     spec.series[i].points ? "linespoints pointsize 0.8" : "lines", quoted(spec.series[i].title));
  }
  return s + "\n";
}

void check_plot_path(const std::string& path, const std::vector<formats::ReadPath>& inputs) {
  terminal_for(path);
  formats::check_output_files("--out", {path, path + ".dat", path + ".gp"}, inputs);  // the sidecars too
}

void check_plot_paths(const std::vector<std::string>& paths, const std::vector<formats::ReadPath>& inputs) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    terminal_for(path);
    files.insert(files.end(), {path, path + ".dat", path + ".gp"});
  }
  formats::check_output_files("--out", files, inputs);
}

void render_plot(const PlotSpec& spec, const std::string& path) {
  if (spec.series.empty()) throw std::runtime_error(path + ": nothing to plot");
  check_plot_path(path);
  // Data blocks separated by two blank lines: gnuplot's `index`.
  std::string data;
  for (const PlotSeries& series : spec.series) {
    data += "# " + series.title + "\n";
    for (size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) data += fmt::format("{:.10g} {:.10g}\n", series.x[i], series.y[i]);
    data += "\n\n";
  }
  // Draw from temp files, then rename: nothing of a failed plot is left, and the script kept
  // beside the image names the final paths.
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  const std::string tmp_image = tmp + fs::path(path).extension().string(), tmp_data = tmp + ".dat", run_script = tmp + ".gp";
  const TempFiles temps{{tmp_image, tmp_data, run_script}};  // whatever fails below (a full disk), none is left
  for (const auto& [temp, text] : {std::pair{tmp_data, data}, {run_script, gnuplot_script(spec, tmp_image, tmp_data)}}) {
    try {
      formats::write_file_atomically(temp, text);
    } catch (const std::runtime_error& e) {  // told by the figure it was for: the temp name means nothing to a user
      const std::string what = e.what();
      throw std::runtime_error(fmt::format("{}: {}", path, what.rfind(temp + ": ", 0) == 0 ? what.substr(temp.size() + 2) : what));
    }
  }
  const std::string command = fmt::format("gnuplot {} 2>&1", quoted(run_script));
  // longrope ignores SIGXFSZ to report a file-size limit itself; gnuplot would inherit that, ignore
  // its own failed writes and leave a cut image with status 0. Let the limit kill gnuplot instead.
  const auto previous = std::signal(SIGXFSZ, SIG_DFL);
  FILE* pipe = popen(command.c_str(), "r");
  std::signal(SIGXFSZ, previous);
  std::string output;
  int status = -1;
  if (pipe) {
    char buf[512];
    while (fgets(buf, sizeof buf, pipe)) output += buf;
    status = pclose(pipe);
  }
  const bool too_large = (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ) || (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGXFSZ);
  if (too_large) throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(EFBIG)));
  std::error_code ignored;
  if (status != 0 || !fs::exists(tmp_image) || fs::file_size(tmp_image, ignored) == 0) {
    const std::string first = output.substr(0, output.find('\n'));
    throw std::runtime_error(fmt::format("{}: gnuplot failed{}", path,
                                         first.empty() ? " (is gnuplot installed? scripts/install-deps.sh)" : ": " + first));
  }
  try {
    fs::rename(tmp_data, path + ".dat");
    formats::write_file_atomically(path + ".gp", gnuplot_script(spec, path, path + ".dat"));
    fs::rename(tmp_image, path);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: cannot put the figure in place: {}", path, e.what()));
  }
}

}  // namespace longrope
