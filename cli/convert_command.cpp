// longrope convert: rewrite a checkpoint in another dtype or shard size (Hugging Face layout).
#include <fmt/format.h>

#include <filesystem>

#include "cli/shared_options.h"
#include "cli/command.h"
#include "models/checkpoint.h"
#include "models/llama_model.h"
#include "formats/atomic_file.h"
#include "formats/directory_rollback.h"
#include "formats/input_file.h"
#include "formats/output_paths.h"

namespace po = boost::program_options;

namespace longrope {

int convert_command(const std::vector<std::string>& args) {
  std::string model_dir, out, dtype = "f16";
  int64_t shard_mb = 0;
  po::options_description o("Convert");
  o.add_options()
      ("model", po::value(&model_dir)->required(), kModelHelp)
      ("out", po::value(&out)->required(), "output model directory (config.json, safetensors and any README.md are written)")
      ("dtype", po::value(&dtype)->default_value(dtype), "stored dtype: f32, bf16 or f16")
      ("shard-mb", po::value(&shard_mb)->default_value(shard_mb), "write shards of at most this many MiB (0: one file)");
  if (!parse_command_line("convert", "--model DIR --out DIR [--dtype f16]", args, o)) return 0;
  namespace fs = std::filesystem;
  // MiB to bytes must not overflow: a shard larger than a terabyte is no shard.
  if (shard_mb < 0 || shard_mb > (int64_t{1} << 20))
    throw UsageError(fmt::format("--shard-mb must be in [0, 2^20] (0: one file), got {}", shard_mb));
  formats::check_outputs({{"--out", out, formats::WritePath::Kind::Directory}}, {{"--model", model_dir}});
  ModelOptions options;
  options.load.dtype = parse_dtype(dtype);
  const LlamaModel model = LlamaModel::load(model_dir, options);
  const bool created = !fs::exists(out);
  const formats::DirectoryLock lock = claim_model_directory(out);
  formats::DirectoryRollback rollback(out, created);  // a failed write (a full disk) leaves no half model
  save_llama_checkpoint(out, model.config(), model.weights(), static_cast<size_t>(shard_mb) << 20);
  const fs::path card = fs::path(model_dir) / "README.md";
  if (fs::exists(card)) formats::write_file_atomically((fs::path(out) / "README.md").string(), formats::read_regular_file(card.string()));
  rollback.keep();
  fmt::print("wrote {} ({}, {} parameters)\n", out, dtype_name(options.load.dtype), model.parameter_count());
  return 0;
}

}  // namespace longrope
