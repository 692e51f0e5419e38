// The `longrope <command>` table and the option-parsing helper every command uses.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "util/errors.h"

namespace longrope {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);  // args exclude the program and command names
};

const std::vector<Command>& commands();

// Parses args into `options`. Returns false after printing --help; throws
// boost::program_options::error on bad input (main turns it into one line and exit code 2).
// `given`, when set, receives the parsed map (which options were given, and which defaulted);
// `positional`, when set, names the options that arguments without a dash fill.
bool parse_command_line(const std::string& command, const std::string& usage, const std::vector<std::string>& args,
                        const boost::program_options::options_description& options,
                        boost::program_options::variables_map* given = nullptr,
                        const boost::program_options::positional_options_description* positional = nullptr);

int eval_command(const std::vector<std::string>& args);
int forward_command(const std::vector<std::string>& args);
int init_model_command(const std::vector<std::string>& args);
int train_command(const std::vector<std::string>& args);
int search_command(const std::vector<std::string>& args);
int convert_command(const std::vector<std::string>& args);
int curve_command(const std::vector<std::string>& args);
int plot_command(const std::vector<std::string>& args);
int sweep_theta_command(const std::vector<std::string>& args);
int export_command(const std::vector<std::string>& args);
int tokenize_command(const std::vector<std::string>& args);
int passkey_command(const std::vector<std::string>& args);
int compare_command(const std::vector<std::string>& args);

}  // namespace longrope
