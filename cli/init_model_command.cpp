// longrope init-model: a random-weight checkpoint in the Hugging Face layout, from a config.json.
// For tests and benchmarks (shapes of real models without downloading them); never for results.
#include <fmt/format.h>

#include <filesystem>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/shared_options.h"
#include "eval/memory_estimate.h"
#include "formats/directory_rollback.h"
#include "formats/output_paths.h"
#include "models/checkpoint.h"

namespace po = boost::program_options;

namespace longrope {

int init_model_command(const std::vector<std::string>& args) {
  std::string config_path, out, dtype = "f32";
  int64_t seed = 0;
  int64_t shard_mb = 0;
  po::options_description o("Init model");
  o.add_options()
      ("config", po::value(&config_path)->required(), "a Hugging Face config.json describing the shape")
      ("out", po::value(&out)->required(), "output model directory")
      ("seed", po::value(&seed)->default_value(seed), "random seed")
      ("dtype", po::value(&dtype)->default_value(dtype), "stored dtype: f32, bf16 or f16")
      ("shard-mb", po::value(&shard_mb)->default_value(shard_mb), "write shards of at most this many MiB (0: one file)");
  if (!parse_command_line("init-model", "--config config.json --out DIR [options]", args, o)) return 0;
  // MiB to bytes must not overflow: a shard larger than a terabyte is no shard.
  if (shard_mb < 0 || shard_mb > (int64_t{1} << 20))
    throw UsageError(fmt::format("--shard-mb must be in [0, 2^20] (0: one file), got {}", shard_mb));
  formats::check_outputs({{"--out", out, formats::WritePath::Kind::Directory}}, {{"--config", config_path}});
  const LlamaConfig config = load_llama_config(config_path);
  LoadOptions load;
  load.dtype = parse_dtype(dtype);
  require_weight_memory(config, 4, "cpu", config_path, "its weights");  // drawn in float32, before any is written
  const LlamaWeights weights = random_llama_weights(config, parse_seed(seed, "--seed"), load);
  const bool created = !std::filesystem::exists(out);
  const formats::DirectoryLock lock = claim_model_directory(out);
  formats::DirectoryRollback rollback(out, created);  // a failed write (a full disk) leaves no half model
  save_llama_checkpoint(out, config, weights, static_cast<size_t>(shard_mb) << 20);
  rollback.keep();
  fmt::print("wrote {} (random weights, seed {}, {})\n", out, seed, dtype_name(load.dtype));
  return 0;
}

}  // namespace longrope
