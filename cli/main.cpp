// longrope: find LongRoPE rescale factors for RoPE language models. Dispatches `longrope <command>`.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <exception>
#include <string>
#include <vector>

#include "cli/command.h"
#include "util/errors.h"

namespace longrope {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"search", "evolutionary search of LongRoPE factors for one or more target lengths", search_command},
      {"eval", "perplexity of a model on long documents under a RoPE scaling", eval_command},
      {"curve", "perplexity against context length for several RoPE methods on the same documents", curve_command},
      {"sweep-theta", "perplexity against the RoPE base θ at one length", sweep_theta_command},
      {"passkey", "passkey retrieval accuracy against prompt length for several RoPE methods (KV-cache decoding)", passkey_command},
      {"plot", "PNG/SVG figures: perplexity vs length, λ vs dimension, search progress", plot_command},
      {"forward", "write the logits of one token sequence (checks against other runtimes)", forward_command},
      {"convert", "rewrite a checkpoint in another dtype or shard size", convert_command},
      {"export", "write a factor table as config.json (transformers, vLLM), GGUF (llama.cpp), CSV or JSON", export_command},
      {"tokenize", "text to token ids with a model's byte-level BPE tokenizer (tokenizer.json or GGUF)", tokenize_command},
      {"init-model", "write a random-weight LLaMA checkpoint for tests and benchmarks", init_model_command},
      {"train", "train a small byte-level LLaMA on text files and save it as a model directory", train_command},
  };
  return table;
}

bool parse_command_line(const std::string& command, const std::string& usage, const std::vector<std::string>& args,
                        const boost::program_options::options_description& options) {
  namespace po = boost::program_options;
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).run(), vm);
  if (vm.count("help")) {
    fmt::print("usage: longrope {} {}\n\n", command, usage);
    std::cout << all << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace longrope

namespace {

// The option a library setting is given by: its name with dashes (race_margin → --race-margin),
// except where the option is spelled otherwise.
std::string option_for(const std::string& setting) {
  static const std::vector<std::pair<std::string, std::string>> renamed = {
      {"hidden_size", "--hidden"},       {"num_layers", "--layers"},          {"num_heads", "--heads"},
      {"num_kv_heads", "--kv-heads"},    {"intermediate_size", "--intermediate"}, {"batch_size", "--batch"},
      {"warmup_steps", "--warmup"},      {"mutation_probability", "--mutation-prob"}, {"short_table", "--short"},
      {"out", "--out"},
  };
  for (const auto& [name, option] : renamed)
    if (name == setting) return option;
  std::string option = "--" + setting;
  for (char& c : option)
    if (c == '_') c = '-';
  return option;
}

void print_usage() {
  fmt::print("usage: longrope <command> [options]   (longrope <command> --help for its options)\n\ncommands:\n");
  for (const auto& c : longrope::commands()) fmt::print("  {:<12} {}\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (const auto& c : longrope::commands()) {
    if (name != c.name) continue;
    const std::vector<std::string> args(argv + 2, argv + argc);
    try {
      return c.run(args);
    } catch (const boost::program_options::error& e) {
      fmt::print(stderr, "longrope {}: {} (see longrope {} --help)\n", name, e.what(), name);
      return 2;
    } catch (const longrope::UsageError& e) {
      fmt::print(stderr, "longrope {}: {}\n", name, e.what());
      return 2;
    } catch (const longrope::InvalidSetting& e) {
      fmt::print(stderr, "longrope {}: {}: {}\n", name, option_for(e.setting()), e.problem());
      return 2;
    } catch (const std::exception& e) {
      // c10::Error carries a backtrace after the first line; one line is enough for a user.
      std::string what = e.what();
      fmt::print(stderr, "longrope {}: error: {}\n", name, what.substr(0, what.find('\n')));
      return 1;
    }
  }
  fmt::print(stderr, "longrope: unknown command '{}'\n", name);
  print_usage();
  return 2;
}
