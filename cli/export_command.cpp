// longrope export: take a factor table to transformers/vLLM (config.json), llama.cpp (GGUF), the
// reference CSV or table JSON.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "tables/factor_table.h"
#include "export/export_values.h"
#include "export/gguf_export.h"
#include "export/hf_export.h"
#include "formats/output_paths.h"

namespace po = boost::program_options;

namespace longrope {

namespace {

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings)
    if (!w.empty()) fmt::print(stderr, "{}\n", w);
}

// An option of another format would be ignored without a word: refused, naming the format it is for.
void refuse_unused_options(const std::string& format, const po::variables_map& given) {
  const std::vector<std::pair<const char*, std::vector<std::string>>> formats_of = {
      {"config", {"hf"}}, {"layout", {"hf"}}, {"gguf", {"gguf"}}, {"gguf-mode", {"gguf"}},
      {"original-length", {"hf", "gguf", "json"}}, {"target-length", {"hf", "gguf", "json"}}, {"drop-start-tokens", {"hf", "gguf"}}};
  for (const auto& [option, formats] : formats_of) {
    const bool set = given.count(option) && !given[option].defaulted() && !(option == std::string("drop-start-tokens") && !given[option].as<bool>());
    if (set && std::find(formats.begin(), formats.end(), format) == formats.end())
      throw UsageError(fmt::format("--{} applies to --format {}, not {}", option, fmt::join(formats, " or "), format));
  }
}

}  // namespace

int export_command(const std::vector<std::string>& args) {
  std::string table_path, format, config, gguf, gguf_mode = "longrope", layout = "both", out, original, target;
  bool drop_start_tokens = false;
  po::options_description o("Export");
  o.add_options()
      ("table", po::value(&table_path)->required(), "factor table: table.json from search, or a reference result_final.csv")
      ("format", po::value(&format)->required(), "hf (config.json for transformers and vLLM), gguf (llama.cpp), csv or json")
      ("config", po::value(&config), "hf: the config.json to patch (in place unless --out)")
      ("gguf", po::value(&gguf), "gguf: the model file to rewrite")
      ("gguf-mode", po::value(&gguf_mode)->default_value(gguf_mode),
       "gguf: longrope (rope_factors_long/short, Phi-3 style) or freqs (rope_freqs, llama architecture, one table)")
      ("layout", po::value(&layout)->default_value(layout),
       "hf: rope_scaling (transformers 4.x), rope_parameters (5.x) or both")
      ("out", po::value(&out), "output file (required for gguf, csv and json; hf: instead of patching --config in place)")
      ("drop-start-tokens", po::bool_switch(&drop_start_tokens),
       "export a table searched with n̂ > 0 without n̂ (no runtime has it; the result is not the searched model)")
      ("original-length", po::value(&original), "L for a table that lacks it (result_final.csv); default: the model file's")
      ("target-length", po::value(&target), "L' for a table that lacks it (result_final.csv)");
  po::variables_map given;
  if (!parse_command_line("export", "--table T --format hf|gguf|csv|json [--config F | --gguf F] [--out F]", args, o, &given))
    return 0;

  ExportRequest request;
  request.drop_start_tokens = drop_start_tokens;
  if (!original.empty()) request.original_length = parse_length(original, "--original-length");
  if (!target.empty()) request.target_length = parse_length(target, "--target-length");
  if (format != "hf" && format != "gguf" && format != "csv" && format != "json")
    throw UsageError("--format: unknown format '" + format + "' (expected hf, gguf, csv or json)");
  if (format == "hf" && config.empty()) throw UsageError("--format hf needs --config config.json");
  if (format == "gguf" && gguf.empty()) throw UsageError("--format gguf needs --gguf FILE");
  if (format != "hf" && out.empty()) throw UsageError("--format " + format + " needs --out FILE");
  refuse_unused_options(format, given);
  if (!out.empty())
    formats::check_output_files("--out", {out}, {{"--table", table_path}, {"--gguf", gguf}, {"--config", config}});
  else  // hf: --config is patched in place
    formats::check_output_files("--config", {config}, {{"--table", table_path}});
  const HfLayout hf_layout = parse_hf_layout(layout);
  const GgufExportMode mode = parse_gguf_export_mode(gguf_mode);

  FactorTable table = read_factor_table(table_path);
  if (format == "hf") {
    const std::string destination = out.empty() ? config : out;
    const ExportValues v = export_hf_config(config, destination, table, {hf_layout, request}, table_path);
    print_warnings(v.warnings);
    fmt::print("wrote {}: longrope, {} factors, L = {}, L' = {}, s = {:.4g}, attention factor {:.6f}, layout {}\n",
               destination, v.long_factor.size(), v.original_length, v.target_length, v.scale, v.attention_factor, layout);
  } else if (format == "gguf") {
    const GgufExportReport r = export_gguf(table, gguf, out, {mode, request}, table_path);
    print_warnings(r.values.warnings);
    const ExportValues& v = r.values;
    fmt::print("wrote {}: {} ({}), {} factors, L = {}, L' = {}, attention factor {:.6f}; set {}{}{}\n", out, gguf_mode,
               r.architecture, v.long_factor.size(), v.original_length, v.target_length, v.attention_factor,
               fmt::join(r.set, ", "), r.removed.empty() ? "" : "; removed ", fmt::join(r.removed, ", "));
  } else if (format == "csv") {
    print_warnings({verdict_warning(table, table_path)});
    if (table.start_tokens > 0)
      fmt::print(stderr, "warning: result_final.csv holds λ only; n̂ = {} is not in it (pass --start-tokens {} to eval)\n",
                 table.start_tokens, table.start_tokens);
    write_factor_csv(out, table.lambda);
    fmt::print("wrote {} ({} factors)\n", out, table.lambda.size());
  } else {
    // A table JSON is read by eval and export as it is: its lengths must be known and consistent.
    print_warnings({verdict_warning(table, table_path)});
    const TableLengths lengths = resolve_table_lengths(table, request, 0, table_path);
    table.original_length = lengths.original_length;
    table.target_length = lengths.target_length;
    table.scale = lengths.scale;
    write_factor_table(out, table);
    fmt::print("wrote {} ({} factors)\n", out, table.lambda.size());
  }
  return 0;
}

}  // namespace longrope
