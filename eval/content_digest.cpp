// FNV-1a digests of documents, model files and texts; canonical paths.
#include "eval/content_digest.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace longrope {

namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;  // FNV-1a 64
constexpr uint64_t kFnvPrime = 1099511628211ull;
// The documents digest has always started from this value (FNV's offset basis short of its last
// digit); kept, so that the digests in existing run files still match.
constexpr uint64_t kDigestOffset = 1469598103934665603ull;

}  // namespace

std::string canonical_path(const std::string& path) {
  std::error_code error;
  const std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(path, error), error);
  return error ? path : p.lexically_normal().string();
}

std::string documents_digest(const std::vector<Document>& docs, const std::optional<int64_t>& bos) {
  uint64_t h = kDigestOffset;
  auto mix = [&h](int64_t v) {
    for (int byte = 0; byte < 8; ++byte) {
      h ^= static_cast<uint64_t>(v >> (8 * byte)) & 0xffu;
      h *= kFnvPrime;
    }
  };
  mix(bos ? *bos : -1);
  mix(static_cast<int64_t>(docs.size()));
  for (const Document& d : docs) {
    mix(static_cast<int64_t>(d.tokens.size()));
    for (int32_t token : d.tokens) mix(token);
    if (d.scored_tail > 0) mix(-d.scored_tail);  // a needle's answer: scored otherwise (absent before needles: old digests hold)
  }
  return fmt::format("{:016x}", h);
}

std::string text_checksum(const std::string& text) {
  uint64_t h = kFnvOffset;
  for (unsigned char c : text) {
    h ^= c;
    h *= kFnvPrime;
  }
  return fmt::format("{:016x}", h);
}

std::string model_files_digest(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  if (fs::is_directory(path)) {
    for (const fs::directory_entry& e : fs::directory_iterator(path))
      if (e.is_regular_file() && e.path().filename() != "README.md") files.push_back(e.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  constexpr std::streamoff kSpan = 1 << 20;
  std::string seen;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot be read");
    const auto size = static_cast<std::streamoff>(fs::file_size(file));
    seen += fmt::format("{}\n{}\n", file.filename().string(), size);
    for (const std::streamoff at : {std::streamoff{0}, std::max<std::streamoff>(0, size - kSpan)}) {
      std::string block(static_cast<size_t>(std::min(kSpan, size)), '\0');
      in.seekg(at);
      in.read(block.data(), static_cast<std::streamsize>(block.size()));
      if (!in) throw std::runtime_error(file.string() + ": cannot be read");
      seen += block;
    }
  }
  return text_checksum(seen);
}

nlohmann::json with_checksum(nlohmann::json body) {
  body.erase("checksum");
  body["checksum"] = text_checksum(body.dump());
  return body;
}

bool checksum_matches(const nlohmann::json& object) {
  if (!object.is_object() || !object.contains("checksum") || !object["checksum"].is_string()) return false;
  nlohmann::json body = object;
  body.erase("checksum");
  return object["checksum"].get<std::string>() == text_checksum(body.dump());
}

}  // namespace longrope
