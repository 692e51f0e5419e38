// Options every model-running command shares: device, dtype, threads, attention; and the RoPE
// method options. Each command adds these groups to its own option description.
#pragma once

#include <boost/program_options.hpp>
#include <string>

#include "models/llama_model.h"
#include "models/rope_methods.h"

namespace longrope {

struct RuntimeArgs {
  std::string device = "cpu";
  std::string dtype = "f32";
  int threads = 0;                 // 0: all cores
  std::string attention = "auto";
  bool sliding_window = true;
};

struct RopeArgs {
  std::string method = "config";
  double scale = 0;                // 0: length / original length
  std::string table;               // longrope: FactorTable .json or reference .csv
  int64_t start_tokens = -1;       // -1: the table's
  double attention_factor = 0;     // 0: the table's, else "su"
};

boost::program_options::options_description runtime_options(RuntimeArgs& args);
boost::program_options::options_description rope_options(RopeArgs& args, bool allow_list);

// Sets torch threads and builds the model options; throws std::invalid_argument on a bad value.
ModelOptions make_model_options(const RuntimeArgs& args);
// One method name → spec, reading --table when the method is longrope, or FILE for "table:FILE".
RopeMethodSpec make_rope_spec(const RopeArgs& args, const std::string& method);

}  // namespace longrope
