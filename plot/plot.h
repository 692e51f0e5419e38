// Plots as real image files (PNG, SVG) rendered by gnuplot from plain series. Knows nothing of models.
#pragma once

#include <optional>
#include <string>

#include "formats/output_paths.h"
#include <vector>

namespace longrope {

struct PlotSeries {
  std::string title;
  std::vector<double> x, y;
  bool points = true;  // markers on the line
};

struct PlotSpec {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  std::optional<double> marker_x;  // a vertical line, e.g. the original context length
  std::optional<double> x_min;     // left end of the x axis (default: the data's)
  std::string marker_label;
  std::vector<PlotSeries> series;
};

// Renders to `path`; the format follows the extension (.png or .svg). The data and the gnuplot
// script are written beside the image as PATH.dat / PATH.gp so a figure can be restyled by hand.
// Throws std::runtime_error naming the file when gnuplot is missing or fails; no image is left
// half-written (gnuplot draws into a temp file that is renamed).
void render_plot(const PlotSpec& spec, const std::string& path);
// Throws (InvalidSetting "out", UsageError, or std::runtime_error naming the path) unless an image and
// its sidecars (.dat, .gp) can be written to `path` by the output rule (formats/output_paths.h): .png
// or .svg, in a writable directory, none of them one of `inputs`. Check every output before drawing any.
void check_plot_path(const std::string& path, const std::vector<formats::ReadPath>& inputs = {});
// check_plot_path for every image a command draws, together: no two of them (or their sidecars) are
// the same file.
void check_plot_paths(const std::vector<std::string>& paths, const std::vector<formats::ReadPath>& inputs);

// gnuplot's script for `spec` drawing into `image` from `data` (exposed for tests).
std::string gnuplot_script(const PlotSpec& spec, const std::string& image, const std::string& data);

}  // namespace longrope
