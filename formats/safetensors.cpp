// safetensors reader/validator, sharded checkpoint lookup and atomic writers.
#include "formats/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <utility>

#include "formats/atomic_file.h"
#include "formats/format_error.h"

namespace longrope::formats {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

// nlohmann keeps the last of duplicate keys; a duplicated tensor name is ambiguous, so refuse it.
json parse_header_json(const char* begin, const char* end, const std::string& file) {
  std::set<std::string> top_level_keys;
  auto reject_duplicates = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && !top_level_keys.insert(parsed.get<std::string>()).second) {
      throw FormatError(fmt::format("{}: header: duplicate key '{}'", file, parsed.get<std::string>()));
    }
    return true;
  };
  try {
    return json::parse(begin, end, reject_duplicates);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    throw FormatError(fmt::format("{}: header: invalid JSON: {}", file, e.what()));
  }
}

const json& require(const json& entry, const char* key, const std::string& where) {
  auto it = entry.find(key);
  if (it == entry.end()) throw FormatError(fmt::format("{}: missing '{}'", where, key));
  return *it;
}

// A JSON integer that must be >= 0 and fit int64 (shape dims, offsets).
int64_t non_negative_int(const json& value, const std::string& where, const std::string& field) {
  if (!value.is_number_integer()) {
    throw FormatError(fmt::format("{}: {} is not an integer ({})", where, field, value.dump()));
  }
  if (value.is_number_unsigned()) {
    auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw FormatError(fmt::format("{}: {} is too large ({})", where, field, u));
    }
    return static_cast<int64_t>(u);
  }
  auto i = value.get<int64_t>();
  if (i < 0) throw FormatError(fmt::format("{}: {} is negative ({})", where, field, i));
  return i;
}

std::vector<int64_t> int_array(const json& value, const std::string& where, const char* field) {
  if (!value.is_array()) throw FormatError(fmt::format("{}: '{}' is not a JSON array", where, field));
  std::vector<int64_t> out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    out.push_back(non_negative_int(value[i], where, fmt::format("{}[{}]", field, i)));
  }
  return out;
}

TensorView parse_entry(const std::string& name, const json& entry, const uint8_t* data, size_t data_size,
                       const std::string& file) {
  const std::string where = fmt::format("{}: tensor '{}'", file, name);
  if (!entry.is_object()) throw FormatError(where + ": entry is not a JSON object");
  const json& dtype_json = require(entry, "dtype", where);
  if (!dtype_json.is_string()) throw FormatError(where + ": 'dtype' is not a string");
  DType dtype = dtype_from_safetensors_name(dtype_json.get<std::string>(), where);
  std::vector<int64_t> shape = int_array(require(entry, "shape", where), where, "shape");
  std::vector<int64_t> offsets = int_array(require(entry, "data_offsets", where), where, "data_offsets");
  if (offsets.size() != 2) {
    throw FormatError(fmt::format("{}: data_offsets has {} elements, expected 2", where, offsets.size()));
  }
  auto begin = static_cast<uint64_t>(offsets[0]);
  auto end = static_cast<uint64_t>(offsets[1]);
  if (begin > end) throw FormatError(fmt::format("{}: data_offsets [{}, {}] begin > end", where, begin, end));
  if (end > data_size) {
    throw FormatError(
        fmt::format("{}: data_offsets [{}, {}] past end of data ({} bytes)", where, begin, end, data_size));
  }
  auto nbytes = checked_nbytes(dtype, shape);
  if (!nbytes) {
    throw FormatError(fmt::format("{}: shape {} overflows the byte size", where, shape_to_string(shape)));
  }
  if (end - begin != *nbytes) {
    throw FormatError(fmt::format("{}: data_offsets [{}, {}] hold {} bytes but {} shape {} needs {}", where, begin, end,
                                  end - begin, safetensors_name(dtype), shape_to_string(shape), *nbytes));
  }
  return TensorView{name, dtype, std::move(shape), data + begin, *nbytes};
}

std::map<std::string, std::string> parse_metadata(const json& value, const std::string& file) {
  if (!value.is_object()) throw FormatError(fmt::format("{}: {} is not a JSON object", file, kMetadataKey));
  std::map<std::string, std::string> out;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      throw FormatError(fmt::format("{}: {}: value of '{}' is not a string", file, kMetadataKey, key));
    }
    out.emplace(key, v.get<std::string>());
  }
  return out;
}

[[noreturn]] void missing_tensor(const std::string& file, const std::string& name) {
  throw FormatError(fmt::format("{}: no tensor '{}'", file, name));
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A shard name comes from an untrusted index; keep it inside the checkpoint directory.
bool escapes_directory(const std::string& shard) {
  fs::path p(shard);
  if (shard.empty() || p.is_absolute()) return true;
  for (const auto& part : p) {
    if (part == "..") return true;
  }
  return false;
}

}  // namespace

int64_t TensorView::numel() const { return checked_numel(shape).value_or(0); }

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  MappedFile mapping = MappedFile::open(path);
  SafetensorsFile file = parse(mapping.data(), mapping.size(), path);
  file.mapping_.emplace(std::move(mapping));  // moving the mapping keeps its address
  return file;
}

SafetensorsFile SafetensorsFile::parse(const uint8_t* bytes, size_t size, const std::string& name_for_errors) {
  const std::string& file_name = name_for_errors;
  if (size < 8) {
    throw FormatError(fmt::format("{}: file is {} bytes, too short for the 8-byte header length", file_name, size));
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > kMaxHeaderBytes) {
    throw FormatError(
        fmt::format("{}: header length {} exceeds the {}-byte limit", file_name, header_len, kMaxHeaderBytes));
  }
  if (header_len > size - 8) {
    throw FormatError(fmt::format("{}: header length {} past end of file ({} bytes)", file_name, header_len, size));
  }
  const char* header = reinterpret_cast<const char*>(bytes + 8);
  json root = parse_header_json(header, header + header_len, file_name);
  if (!root.is_object()) throw FormatError(fmt::format("{}: header: not a JSON object", file_name));

  const uint8_t* data = bytes + 8 + header_len;
  const size_t data_size = size - 8 - static_cast<size_t>(header_len);
  SafetensorsFile file;
  file.path_ = file_name;
  for (const auto& [name, entry] : root.items()) {
    if (name == kMetadataKey) {
      file.metadata_ = parse_metadata(entry, file_name);
    } else {
      file.tensors_.emplace(name, parse_entry(name, entry, data, data_size, file_name));
    }
  }
  // As safetensors itself requires: the tensors tile the data section, in offset order, with no
  // byte shared and none left over (overlapping tensors would read each other's values).
  std::vector<const TensorView*> by_offset;
  for (const auto& [name, view] : file.tensors_) by_offset.push_back(&view);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorView* a, const TensorView* b) {
    return a->data != b->data ? a->data < b->data : a->nbytes < b->nbytes;
  });
  size_t expected = 0;
  for (const TensorView* view : by_offset) {
    const auto begin = static_cast<size_t>(view->data - data);
    if (begin != expected)
      throw FormatError(fmt::format("{}: tensor '{}': data_offsets start at {}, {} (tensors must tile the data section)", file_name,
                                    view->name, begin, begin < expected ? fmt::format("inside the bytes before it (up to {})", expected)
                                                                        : fmt::format("leaving a gap after {}", expected)));
    expected = begin + view->nbytes;
  }
  if (expected != data_size)
    throw FormatError(fmt::format("{}: data section holds {} bytes, the tensors {} (tensors must tile the data section)", file_name,
                                  data_size, expected));
  return file;
}

bool SafetensorsFile::contains(const std::string& name) const { return tensors_.count(name) != 0; }

const TensorView& SafetensorsFile::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) missing_tensor(path_, name);
  return it->second;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& entry : tensors_) out.push_back(entry.first);
  return out;
}

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    fs::path single = fs::path(path) / "model.safetensors";
    if (fs::exists(single, ec)) return open_single(single.string());
    fs::path index = fs::path(path) / "model.safetensors.index.json";
    if (fs::exists(index, ec)) return open_index(index.string());
    throw FormatError(fmt::format("{}: no model.safetensors or model.safetensors.index.json", path));
  }
  if (ends_with(path, ".index.json")) return open_index(path);
  return open_single(path);  // MappedFile reports a missing or unreadable path
}

SafetensorsCheckpoint SafetensorsCheckpoint::open_single(const std::string& file) {
  SafetensorsCheckpoint ckpt;
  ckpt.path_ = file;
  ckpt.files_.push_back(SafetensorsFile::open(file));
  const SafetensorsFile& only = ckpt.files_.front();
  for (const auto& name : only.names()) ckpt.tensors_.emplace(name, &only.get(name));
  return ckpt;
}

SafetensorsCheckpoint SafetensorsCheckpoint::open_index(const std::string& index_file) {
  MappedFile mapped = MappedFile::open(index_file);
  const char* text = mapped.size() != 0 ? reinterpret_cast<const char*>(mapped.data()) : "";
  json root;
  try {
    root = json::parse(text, text + mapped.size());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    throw FormatError(fmt::format("{}: invalid JSON: {}", index_file, e.what()));
  }
  if (!root.is_object()) throw FormatError(fmt::format("{}: not a JSON object", index_file));
  const json& weight_map = require(root, "weight_map", index_file);
  if (!weight_map.is_object()) throw FormatError(fmt::format("{}: 'weight_map' is not a JSON object", index_file));

  SafetensorsCheckpoint ckpt;
  ckpt.path_ = index_file;
  const fs::path dir = fs::path(index_file).parent_path();
  std::map<std::string, size_t> shard_ids;                 // shard name -> index in files_
  std::vector<std::pair<std::string, size_t>> placements;  // tensor -> index in files_
  for (const auto& [tensor, shard_json] : weight_map.items()) {
    const std::string where = fmt::format("{}: weight_map: tensor '{}'", index_file, tensor);
    if (!shard_json.is_string()) throw FormatError(where + ": shard name is not a string");
    const std::string shard = shard_json.get<std::string>();
    auto found = shard_ids.find(shard);
    if (found == shard_ids.end()) {
      if (escapes_directory(shard)) {
        throw FormatError(fmt::format("{}: shard '{}' is outside the checkpoint directory", where, shard));
      }
      try {
        ckpt.files_.push_back(SafetensorsFile::open((dir / shard).string()));
      } catch (const FormatError& e) {
        throw FormatError(fmt::format("{}: shard '{}': {}", where, shard, e.what()));
      }
      found = shard_ids.emplace(shard, ckpt.files_.size() - 1).first;
    }
    placements.emplace_back(tensor, found->second);
  }
  for (const auto& [tensor, id] : placements) {
    const SafetensorsFile& shard = ckpt.files_[id];
    if (!shard.contains(tensor)) {
      throw FormatError(
          fmt::format("{}: weight_map: tensor '{}' not found in shard '{}'", index_file, tensor, shard.path()));
    }
    ckpt.tensors_.emplace(tensor, &shard.get(tensor));
  }
  return ckpt;
}

bool SafetensorsCheckpoint::contains(const std::string& name) const { return tensors_.count(name) != 0; }

const TensorView& SafetensorsCheckpoint::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) missing_tensor(path_, name);
  return *it->second;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& entry : tensors_) out.push_back(entry.first);
  return out;
}

namespace {

std::string build_header(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::string where = fmt::format("{}: tensor '{}'", path, t.name);
    if (t.name == kMetadataKey) throw std::invalid_argument(where + ": reserved name");
    if (header.contains(t.name)) throw std::invalid_argument(where + ": duplicate name");
    auto nbytes = checked_nbytes(t.dtype, t.shape);
    if (!nbytes || *nbytes != t.nbytes) {
      throw std::invalid_argument(fmt::format("{}: nbytes {} does not match {} shape {}", where, t.nbytes,
                                              safetensors_name(t.dtype), shape_to_string(t.shape)));
    }
    if (t.data == nullptr && t.nbytes != 0) throw std::invalid_argument(where + ": null data");
    header[t.name] = {
        {"dtype", safetensors_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::ordered_json::exception& e) {
    throw std::invalid_argument(fmt::format("{}: cannot encode header: {}", path, e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned
  return text;
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string header = build_header(path, tensors, metadata);
  char len_bytes[8];
  for (int i = 0; i < 8; ++i)
    len_bytes[i] = static_cast<char>((static_cast<uint64_t>(header.size()) >> (8 * i)) & 0xff);
  AtomicFile file(path);
  std::ostream& out = file.stream();
  out.write(len_bytes, 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& t : tensors) out.write(static_cast<const char*>(t.data), static_cast<std::streamsize>(t.nbytes));
  file.commit();
}

void write_sharded_safetensors(const std::string& dir, const std::vector<TensorToWrite>& tensors,
                               size_t max_shard_bytes, const std::map<std::string, std::string>& metadata) {
  if (max_shard_bytes == 0) throw std::invalid_argument(fmt::format("{}: max_shard_bytes must be positive", dir));
  std::set<std::string> seen;
  std::vector<std::vector<TensorToWrite>> shards(1);
  size_t shard_bytes = 0;
  uint64_t total_size = 0;
  for (const auto& t : tensors) {
    if (!seen.insert(t.name).second) {
      throw std::invalid_argument(fmt::format("{}: tensor '{}': duplicate name", dir, t.name));
    }
    bool fits = t.nbytes <= max_shard_bytes && shard_bytes <= max_shard_bytes - t.nbytes;
    if (!shards.back().empty() && !fits) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(t);
    shard_bytes += t.nbytes;
    total_size += t.nbytes;
  }
  fs::create_directories(dir);
  json weight_map = json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string shard_name = fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, shards.size());
    write_safetensors((fs::path(dir) / shard_name).string(), shards[i], metadata);
    for (const auto& t : shards[i]) weight_map[t.name] = shard_name;
  }
  json index = {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
  write_file_atomically((fs::path(dir) / "model.safetensors.index.json").string(), index.dump(2) + "\n");
}

}  // namespace longrope::formats
