// safetensors: zero-copy reader (single file or Hugging Face sharded checkpoint) and atomic writer.
//
// Byte layout of a .safetensors file:
//   [0, 8)         u64 little-endian N: length of the JSON header
//   [8, 8 + N)     UTF-8 JSON object, right-padded with spaces:
//                    {"NAME": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]},
//                     ...,
//                     "__metadata__": {"key": "value", ...}}      (optional; string values only)
//   [8 + N, size)  data section; tensor NAME is bytes [begin, end) of it, row-major, little-endian.
// Offsets are relative to the data section, so a tensor's data is aligned only as far as the
// writer arranged it: callers needing aligned access must copy.
//
// A sharded checkpoint directory holds model-0000K-of-0000N.safetensors plus
// model.safetensors.index.json: {"metadata": {"total_size": BYTES}, "weight_map": {"NAME": "SHARD"}}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "formats/dtype.h"
#include "formats/mapped_file.h"

namespace longrope::formats {

// A tensor inside a mapped file; `data` lives as long as the SafetensorsFile/Checkpoint that
// handed it out (moves included).
struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data;
  size_t nbytes;

  int64_t numel() const;
};

// Untrusted input: every length and offset is checked against the bytes actually present, and
// every failure is a FormatError naming the file and the field or tensor.
class SafetensorsFile {
 public:
  static constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

  // Maps `path` and keeps the mapping alive for the views.
  static SafetensorsFile open(const std::string& path);
  // Views into caller-owned bytes, which must outlive the result; lets tests feed handcrafted
  // buffers.
  static SafetensorsFile parse(const uint8_t* bytes, size_t size, const std::string& name_for_errors);

  bool contains(const std::string& name) const;
  // Throws FormatError "FILE: no tensor 'NAME'".
  const TensorView& get(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }

 private:
  SafetensorsFile() = default;

  std::string path_;
  std::optional<MappedFile> mapping_;  // empty when parse() got caller-owned bytes
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A model as it sits on disk: one .safetensors file, or a directory with model.safetensors or a
// sharded model.safetensors.index.json. Tensor lookups span all shards.
class SafetensorsCheckpoint {
 public:
  // `path` is a .safetensors file, a *.index.json file, or a directory holding model.safetensors
  // (preferred) or model.safetensors.index.json. Each shard is opened once.
  static SafetensorsCheckpoint open(const std::string& path);

  bool contains(const std::string& name) const;
  // Throws FormatError "FILE: no tensor 'NAME'".
  const TensorView& get(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  // The single file or the index file that was opened.
  const std::string& path() const { return path_; }
  const std::vector<SafetensorsFile>& files() const { return files_; }

 private:
  SafetensorsCheckpoint() = default;
  static SafetensorsCheckpoint open_single(const std::string& file);
  static SafetensorsCheckpoint open_index(const std::string& index_file);

  std::string path_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, const TensorView*> tensors_;  // points into files_' maps; stable on move
};

struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  size_t nbytes;
};

// Writes atomically (AtomicFile); the header is space-padded to a multiple of 8 bytes and the
// tensors are packed in the given order. Throws std::invalid_argument for inconsistent input
// (nbytes != numel * dtype size, duplicate or reserved names) and std::runtime_error on I/O errors.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Hugging Face layout: DIR/model-00001-of-0000N.safetensors ... plus model.safetensors.index.json,
// written last so a reader never sees an index naming missing shards. Tensors are packed greedily
// in order; a tensor larger than max_shard_bytes gets a shard of its own. `metadata` goes into
// every shard. Creates DIR if missing.
void write_sharded_safetensors(const std::string& dir, const std::vector<TensorToWrite>& tensors,
                               size_t max_shard_bytes, const std::map<std::string, std::string>& metadata = {});

}  // namespace longrope::formats
