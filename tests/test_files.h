// Whole-file reads and writes for tests (torch-free: the unit and model test binaries share them).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace longrope {

inline std::string text_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace longrope
