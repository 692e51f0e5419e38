// longrope: find LongRoPE rescale factors for RoPE language models. Dispatches `longrope <command>`.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <exception>
#include <string>
#include <vector>

#include "cli/cli_util.h"
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
      {"compare", "the change of perplexity between two methods on the same windows, with a bootstrap interval", compare_command},
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

namespace {

// An option given as "" names no file, list or value: --out '' would write the hidden file ".csv",
// --json '' would silently write nothing, and a reader would fail later with a library's text.
void refuse_empty_values(const boost::program_options::variables_map& vm) {
  for (const auto& [name, value] : vm) {
    if (value.defaulted() || value.empty()) continue;
    const boost::any& any = value.value();
    bool empty = false;
    if (any.type() == typeid(std::string)) empty = boost::any_cast<const std::string&>(any).empty();
    if (any.type() == typeid(std::vector<std::string>))
      for (const std::string& item : boost::any_cast<const std::vector<std::string>&>(any)) empty = empty || item.empty();
    if (empty) throw UsageError(fmt::format("--{}: an empty value names nothing", name));
  }
}

}  // namespace

bool parse_command_line(const std::string& command, const std::string& usage, const std::vector<std::string>& args,
                        const boost::program_options::options_description& options, boost::program_options::variables_map* given,
                        const boost::program_options::positional_options_description* positional) {
  namespace po = boost::program_options;
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  po::variables_map vm;
  po::command_line_parser parser(args);
  parser.options(all);
  if (positional) parser.positional(*positional);
  const po::parsed_options parsed = parser.run();
  // Without a positional description boost keeps a stray word unnamed and store() drops it: "--method
  // none pi" would run none alone.
  for (const po::option& option : parsed.options)
    if (option.string_key.empty() && !option.original_tokens.empty())
      throw UsageError(fmt::format("unexpected argument '{}': each option takes one value (give a list comma-separated)",
                                   option.original_tokens.front()));
  po::store(parsed, vm);
  if (vm.count("help")) {
    fmt::print("usage: longrope {} {}\n\n", command, usage);
    std::cout << all << "\n";
    return false;
  }
  refuse_empty_values(vm);
  po::notify(vm);
  if (given) *given = vm;
  return true;
}

}  // namespace longrope

namespace {

void print_usage() {
  fmt::print("usage: longrope <command> [options]   (longrope <command> --help for its options)\n\ncommands:\n");
  for (const auto& c : longrope::commands()) fmt::print("  {:<12} {}\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  // Under a file-size limit (ulimit -f) the kernel would end the process by SIGXFSZ mid-write, leaving
  // temp files; ignored, the write fails with EFBIG and the writer names the file and "File too large".
  std::signal(SIGXFSZ, SIG_IGN);
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
    } catch (...) {
      const longrope::ErrorReport report = longrope::describe_error(std::current_exception());
      // fputs, not fmt::print: with stderr itself a file under a size limit or on a full disk, fmt::print
      // would throw from this handler and end the process by std::terminate (SIGABRT).
      const std::string line = fmt::format("longrope {}: {}{}\n", name, report.line,
                                           report.see_help ? fmt::format(" (see longrope {} --help)", name) : "");
      std::fputs(line.c_str(), stderr);
      return report.exit_code;
    }
  }
  fmt::print(stderr, "longrope: unknown command '{}'\n", name);
  print_usage();
  return 2;
}
