// Small helpers the commands share: list and length parsing, the tokenizer executable's path.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace longrope {

// --help text of every command's --model option.
inline constexpr const char* kModelHelp =
    "model directory (config.json + safetensors) or a llama-architecture .gguf file";

std::vector<std::string> split_list(const std::string& text);  // "a,b,,c" -> {a, b, c}
// "2048", "4k" (4096), "1m" (1048576); throws std::invalid_argument naming `option`.
int64_t parse_length(const std::string& text, const std::string& option);
std::string tokenize_exe_path();  // longrope-tokenize beside this executable
nlohmann::json read_json_file(const std::string& path);  // errors name the file

}  // namespace longrope
