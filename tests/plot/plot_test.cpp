// Plots are real PNG/SVG files with the expected series (rendered by gnuplot).
#include "plot/plot.h"
#include "plot/figures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/file_write.h"
#include "tests/test_files.h"

namespace longrope {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

PlotSpec two_series() {
  PlotSpec p;
  p.title = "Perplexity vs context length";
  p.x_label = "tokens";
  p.y_label = "ppl";
  p.log_x = p.log_y = true;
  p.marker_x = 256;
  p.marker_label = "original length 256";
  p.series = {{"none", {256, 512, 1024}, {3.1, 9.5, 80.0}, true}, {"yarn", {256, 512, 1024}, {3.2, 3.4, 4.0}, true}};
  return p;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Plot, ScriptHasScalesMarkerAndEverySeries) {
  const std::string s = gnuplot_script(two_series(), "out.png", "out.dat");
  EXPECT_THAT(s, HasSubstr("set logscale x 2"));
  EXPECT_THAT(s, HasSubstr("set logscale y"));
  EXPECT_THAT(s, HasSubstr("set arrow from 256"));
  EXPECT_THAT(s, HasSubstr("index 0 using 1:2"));
  EXPECT_THAT(s, HasSubstr("title \"yarn\""));
  EXPECT_THROW(gnuplot_script(two_series(), "out.pdf", "d"), std::invalid_argument);
}

// The marker's label sits on the side of the line with more room: at the axis's left end it goes right of
// the line, not out of the axes.
TEST(Plot, MarkerLabelStaysInsideTheAxes) {
  PlotSpec at_left = two_series();
  EXPECT_THAT(gnuplot_script(at_left, "o.png", "d"), HasSubstr("\"original length 256\" at 256,graph 0.97 left offset 0.5,0"));
  PlotSpec at_right = two_series();
  at_right.marker_x = 1024;
  EXPECT_THAT(gnuplot_script(at_right, "o.png", "d"), HasSubstr("at 1024,graph 0.97 right offset -0.5,0"));
}

// Two tables from runs whose target directories share a name get two legend entries.
TEST(Plot, TablesOfTwoRunsAreToldApart) {
  const fs::path dir = fs::temp_directory_path() / ("longrope-plot-labels-" + std::to_string(getpid()));
  for (const char* run : {"run1", "run2"}) {
    fs::create_directories(dir / run / "8x-2048");
    std::ofstream(dir / run / "8x-2048" / "table.json") << R"({"lambda": [1.0, 2.0, 4.0, 8.0], "rope_base": 10000, "head_dim": 8,
      "original_length": 256, "target_length": 2048, "scale": 8})";
  }
  const PlotSpec p = lambda_plot({(dir / "run1/8x-2048/table.json").string(), (dir / "run2/8x-2048/table.json").string()});
  EXPECT_EQ(p.series[0].title, "longrope run1/8x-2048");
  EXPECT_EQ(p.series[1].title, "longrope run2/8x-2048");
  fs::remove_all(dir);
}

// Passkey runs split by length (a method left out at the longest) join into one series per method,
// its points in length order; a malformed file is named.
TEST(Plot, PasskeyFilesJoinByMethod) {
  const fs::path dir = fresh_temp_dir("plot-passkey");
  write_text(dir / "short.json", R"({"samples": 10, "original_length": 8192, "results": [
    {"method": "none", "length": 4096, "accuracy": 0.9}, {"method": "yarn", "length": 8192, "accuracy": 0.5},
    {"method": "yarn", "length": 4096, "accuracy": 0.8}, {"method": "none", "length": 8192, "accuracy": 0.7}]})");
  write_text(dir / "long.json", R"({"samples": 12, "results": [{"method": "yarn", "length": 16384, "accuracy": 0.25}]})");
  const PlotSpec p = passkey_plot({(dir / "short.json").string(), (dir / "long.json").string()});
  ASSERT_EQ(p.series.size(), 2u);
  EXPECT_EQ(p.series[0].title, "none");
  EXPECT_EQ(p.series[0].x, (std::vector<double>{4096, 8192}));
  EXPECT_EQ(p.series[1].title, "yarn");
  EXPECT_EQ(p.series[1].x, (std::vector<double>{4096, 8192, 16384}));
  EXPECT_EQ(p.series[1].y, (std::vector<double>{80, 50, 25}));
  EXPECT_EQ(p.title, "Passkey retrieval (10–12 prompts per length)");
  EXPECT_EQ(p.marker_x, 8192);
  write_text(dir / "bad.json", R"({"samples": 10, "results": [{"method": "yarn", "length": 4096}]})");
  try {
    passkey_plot({(dir / "short.json").string(), (dir / "bad.json").string()});
    FAIL() << "a result without accuracy was plotted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr((dir / "bad.json").string() + ": "));
  }
}

TEST(Plot, RendersPngAndSvgFiles) {
  if (std::system("gnuplot --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot not installed (scripts/install-deps.sh)";
  const fs::path dir = fs::temp_directory_path() / ("longrope-plot-" + std::to_string(getpid()));
  fs::create_directories(dir);
  render_plot(two_series(), (dir / "curve.png").string());
  render_plot(two_series(), (dir / "curve.svg").string());
  const std::string png = read(dir / "curve.png");
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const std::string svg = read(dir / "curve.svg");
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_THAT(svg, HasSubstr(">none<"));  // legend entries
  EXPECT_THAT(svg, HasSubstr(">yarn<"));
  EXPECT_THAT(read(dir / "curve.png.dat"), HasSubstr("# yarn"));
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  fs::remove_all(dir);
}

// A full disk while the temp files are written (before gnuplot runs): the cause, and none of them left.
TEST(Plot, AFailedWriteLeavesNoTempFile) {
  const fs::path dir = fs::temp_directory_path() / ("longrope-plot-full-" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const size_t allowed : {size_t{0}, size_t{200}}) {  // the data file, then the script after it
    formats::fail_writes_after_for_tests(allowed, ENOSPC);
    std::string error;
    try {
      render_plot(two_series(), (dir / "curve.png").string());
    } catch (const std::exception& e) {
      error = e.what();
    }
    formats::fail_writes_after_for_tests(0, 0);
    EXPECT_EQ(error, (dir / "curve.png").string() + ": cannot write: No space left on device");
    EXPECT_TRUE(fs::is_empty(dir)) << "left " << fs::directory_iterator(dir)->path();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longrope
