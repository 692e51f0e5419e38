// Reading documents from text, raw token files and .npy, and choosing the scored subset.
#include "eval/documents.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "tokenizer/bpe_tokenizer.h"
#include "formats/gguf.h"
#include "formats/input_file.h"
#include "formats/mapped_file.h"
#include "formats/npy.h"
#include "util/errors.h"
#include "util/splitmix64.h"

extern char** environ;

namespace longrope {
namespace {

namespace fs = std::filesystem;

std::string extension_format(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".npy") return "npy";
  if (ext == ".u16") return "u16";
  if (ext == ".u32") return "u32";
  if (ext == ".txt" || ext == ".text" || ext == ".md") return "text";
  return "";
}

template <typename T>
std::vector<int32_t> widen(const uint8_t* data, size_t count) {
  std::vector<int32_t> out(count);
  for (size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, data + i * sizeof(T), sizeof(T));
    if constexpr (std::is_signed_v<T>) {
      if (v < 0) throw std::runtime_error(fmt::format("token id {} at index {} is negative", static_cast<int64_t>(v), i));
    }
    if (static_cast<uint64_t>(v) > static_cast<uint64_t>(INT32_MAX))
      throw std::runtime_error(fmt::format("token {} at index {} does not fit a token id", static_cast<uint64_t>(v), i));
    out[i] = static_cast<int32_t>(v);
  }
  return out;
}

std::vector<int32_t> raw_tokens(const fs::path& file, size_t width) {
  const formats::MappedFile m = formats::MappedFile::open(file.string());
  if (m.size() % width != 0)
    throw std::runtime_error(fmt::format("{}: size {} is not a multiple of {} bytes per token", file.string(), m.size(), width));
  try {
    return width == 2 ? widen<uint16_t>(m.data(), m.size() / 2) : widen<uint32_t>(m.data(), m.size() / 4);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

void npy_documents(const fs::path& file, std::vector<Document>& out) {
  const formats::MappedFile m = formats::MappedFile::open(file.string());
  const formats::NpyArray a = formats::parse_npy(m.data(), m.size(), file.string());
  if (a.shape.empty() || a.shape.size() > 2)
    throw std::runtime_error(file.string() + ": field 'shape': expected a 1-D array of token ids (or 2-D, one document per row)");
  using formats::DType;
  const size_t width = formats::dtype_size(a.dtype);
  const int64_t rows = a.shape.size() == 2 ? a.shape[0] : 1;
  const size_t per_row = static_cast<size_t>(a.shape.back());
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* p = a.data + static_cast<size_t>(r) * per_row * width;
    Document d;
    d.name = rows == 1 ? file.filename().string() : fmt::format("{}#{}", file.filename().string(), r);
    try {
      switch (a.dtype) {
        case DType::U16: d.tokens = widen<uint16_t>(p, per_row); break;
        case DType::U32: d.tokens = widen<uint32_t>(p, per_row); break;
        case DType::I32: d.tokens = widen<int32_t>(p, per_row); break;
        case DType::I64: d.tokens = widen<int64_t>(p, per_row); break;
        case DType::U8: d.tokens = widen<uint8_t>(p, per_row); break;
        case DType::U64: d.tokens = widen<uint64_t>(p, per_row); break;
        case DType::I16: d.tokens = widen<int16_t>(p, per_row); break;
        case DType::I8: d.tokens = widen<int8_t>(p, per_row); break;
        default: throw std::runtime_error(std::string("field 'descr': token ids must be integers, got ") + formats::safetensors_name(a.dtype));
      }
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(file.string() + ": " + e.what());
    }
    out.push_back(std::move(d));
  }
}

// SentencePiece's bundled protobuf clashes with LibTorch's, so a separate executable tokenizes.
std::vector<int32_t> sentencepiece_tokens(const DocumentSource& s, const fs::path& file) {
  if (s.tokenize_exe.empty() || !fs::exists(s.tokenize_exe))
    throw std::runtime_error("longrope-tokenize not found (expected beside the longrope binary): " + s.tokenize_exe);
  const fs::path out = fs::temp_directory_path() / fmt::format("longrope-tokens-{}-{}.u32", getpid(), std::hash<std::string>{}(file.string()));
  std::vector<std::string> args = {s.tokenize_exe, "--model", s.tokenizer, "--input", file.string(), "--output", out.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The helper's one-line complaint goes into a file and then into our own one-line error.
  const fs::path complaint = out.string() + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, complaint.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, s.tokenize_exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot start " + s.tokenize_exe);
  int status = 0;
  waitpid(pid, &status, 0);
  std::string why;
  std::getline(std::ifstream(complaint), why);
  fs::remove(complaint);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fs::remove(out);
    throw std::runtime_error(fmt::format("{}: tokenizing with {} failed: {}", file.string(), s.tokenizer,
                                         why.empty() ? "the helper stopped without a word" : why));
  }
  std::vector<int32_t> tokens = raw_tokens(out, 4);
  fs::remove(out);
  return tokens;
}

// `bpe` is the byte-level BPE tokenizer when s.tokenizer names one (tokenizer.json or GGUF).
std::vector<int32_t> text_tokens(const DocumentSource& s, const BpeTokenizer* bpe, const fs::path& file) {
  if (!s.tokenizer_unavailable.empty()) throw std::runtime_error(fmt::format("{}: {}", file.string(), s.tokenizer_unavailable));
  const formats::MappedFile m = formats::MappedFile::open(file.string());
  // A model file or token ids read as text would be scored as bytes without a word.
  const std::string not_text = formats::not_text_reason(std::string_view(reinterpret_cast<const char*>(m.data()), m.size()));
  if (!not_text.empty())
    throw std::runtime_error(fmt::format("{}: not a text file ({}); token ids are read from .u16, .u32 or .npy (or --token-format)",
                                         file.string(), not_text));
  if (bpe == nullptr && !s.tokenizer.empty()) return sentencepiece_tokens(s, file);
  if (bpe != nullptr) {
    try {
      return encode_keeping_every_byte(*bpe, std::string_view(reinterpret_cast<const char*>(m.data()), m.size()),
                                       fmt::format("{} with the tokenizer {}", file.string(), s.tokenizer));
    } catch (const std::invalid_argument& e) {  // not UTF-8
      throw std::runtime_error(fmt::format("{}: {}", file.string(), e.what()));
    }
  }
  return std::vector<int32_t>(m.data(), m.data() + m.size());  // byte-level: token = byte value
}

void read_file(const DocumentSource& s, const BpeTokenizer* bpe, const fs::path& file, const std::string& format,
               std::vector<Document>& out) {
  if (format == "npy") return npy_documents(file, out);
  Document d;
  d.name = file.filename().string();
  if (format == "u16") d.tokens = raw_tokens(file, 2);
  else if (format == "u32") d.tokens = raw_tokens(file, 4);
  else if (format == "text") d.tokens = text_tokens(s, bpe, file);
  else throw std::invalid_argument(fmt::format("{}: unknown token format '{}' (text, u16, u32, npy)", file.string(), format));
  out.push_back(std::move(d));
}

}  // namespace

bool is_bpe_tokenizer(const std::string& path) {
  if (path.empty()) return false;
  // A .gguf without GGUF's magic is still meant as one: told "not a GGUF file", not SentencePiece's words.
  return fs::path(path).extension() == ".json" || fs::path(path).extension() == ".gguf" || formats::is_gguf_file(path);
}

std::vector<Document> load_documents(const DocumentSource& s) {
  const fs::path root(s.path);
  if (s.path.empty() || !fs::exists(root)) throw std::runtime_error(fmt::format("{}: data path does not exist", s.path));
  std::optional<BpeTokenizer> bpe;
  if (is_bpe_tokenizer(s.tokenizer)) bpe = BpeTokenizer::from_file(s.tokenizer);
  const BpeTokenizer* tokenizer = bpe ? &*bpe : nullptr;
  std::vector<Document> docs;
  if (fs::is_directory(root)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    size_t read = 0;
    for (const fs::path& f : files) {
      const std::string format = s.token_format == "auto" ? extension_format(f) : s.token_format;
      if (format.empty()) continue;  // e.g. index.json beside the books
      read_file(s, tokenizer, f, format, docs);
      ++read;
    }
    if (read == 0) throw std::runtime_error(fmt::format("{}: no documents (.txt, .npy, .u16, .u32) in this directory", s.path));
    if (docs.empty()) throw std::runtime_error(fmt::format("{}: its {} document files hold no documents (0 rows)", s.path, read));
  } else {
    std::string format = s.token_format == "auto" ? extension_format(root) : s.token_format;
    if (format.empty()) format = "text";
    read_file(s, tokenizer, root, format, docs);
  }
  return docs;
}

std::vector<Document> select_documents(std::vector<Document> docs, const DocumentSelection& sel, const std::string& source) {
  if (sel.count <= 0) throw InvalidSetting("docs", fmt::format("must be positive, got {}", sel.count));
  size_t longest = 0;
  std::string longest_name;
  std::vector<Document> kept;
  for (Document& d : docs) {
    if (d.tokens.size() > longest) {
      longest = d.tokens.size();
      longest_name = d.name;
    }
    if (static_cast<int64_t>(d.tokens.size()) >= sel.min_tokens) kept.push_back(std::move(d));
  }
  if (kept.empty())
    throw std::runtime_error(fmt::format("{}: no document has at least {} tokens (the longest, {}, has {})", source,
                                         sel.min_tokens, longest_name.empty() ? "none" : longest_name, longest));
  if (sel.seed) {  // a portable draw (splitmix64, Fisher-Yates): std::shuffle's differs between standard libraries
    uint64_t state = *sel.seed;
    for (size_t i = kept.size(); i > 1; --i) std::swap(kept[i - 1], kept[splitmix64(state) % i]);
  }
  if (static_cast<int64_t>(kept.size()) > sel.count) kept.resize(static_cast<size_t>(sel.count));
  return kept;
}

std::vector<Document> select_windows(const std::vector<Document>& documents, int64_t window, const WindowSelection& s) {
  if (window < 1) throw InvalidSetting("length", fmt::format("a window of {} tokens", window));
  if (s.per_document < 1) throw InvalidSetting("windows", fmt::format("must be positive, got {}", s.per_document));
  if (s.skip_tokens < 0) throw InvalidSetting("skip_tokens", fmt::format("must be >= 0, got {}", s.skip_tokens));
  std::vector<Document> out;
  for (const Document& d : documents) {
    const int64_t usable = static_cast<int64_t>(d.tokens.size()) - s.skip_tokens;
    const int64_t slots = usable >= window ? usable / window : 0;
    std::vector<int64_t> chosen;
    for (int64_t j = 0; j < slots; ++j) chosen.push_back(j);
    if (s.seed) {
      // A portable draw (splitmix64, Fisher-Yates) so that a seed picks the same windows everywhere;
      // the document's name enters the seed, so that equal documents need not give equal slots.
      uint64_t state = *s.seed;
      for (unsigned char c : d.name) state = (state ^ c) * 1099511628211ull;  // FNV-1a steps: the same everywhere
      for (size_t i = chosen.size(); i > 1; --i) std::swap(chosen[i - 1], chosen[splitmix64(state) % i]);
    }
    // The first skip_windows of the order (drawn or not) belong to someone else: validation takes the
    // slots after the search's.
    chosen.erase(chosen.begin(), chosen.begin() + std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(chosen.size()), s.skip_windows));
    if (static_cast<int64_t>(chosen.size()) > s.per_document) chosen.resize(static_cast<size_t>(s.per_document));
    std::sort(chosen.begin(), chosen.end());
    for (int64_t j : chosen) {
      const int64_t begin = s.skip_tokens + j * window;
      out.push_back({fmt::format("{}@{}", d.name, begin),
                     std::vector<int32_t>(d.tokens.begin() + begin, d.tokens.begin() + begin + window)});
    }
  }
  return out;
}

}  // namespace longrope
