// Rewriting a GGUF with a factor table, then verifying the written file before it replaces anything.
#include "export/gguf_export.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>

#include "formats/atomic_file.h"
#include "formats/format_error.h"
#include "formats/gguf.h"
#include "util/errors.h"

namespace longrope {

namespace {

namespace fs = std::filesystem;
using formats::GgmlType;
using formats::GgufFile;
using formats::GgufKv;
using formats::GgufTensorToWrite;
using formats::GgufValue;

constexpr const char* kLongName = "rope_factors_long.weight";
constexpr const char* kShortName = "rope_factors_short.weight";
constexpr const char* kFreqsName = "rope_freqs.weight";

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

std::vector<float> to_f32(const std::vector<double>& values) { return std::vector<float>(values.begin(), values.end()); }

// The new file must hold exactly `kvs` and `tensors`: copied KVs with their raw bytes, new KVs with
// their values, every tensor's bytes identical.
void verify_written(const std::string& written, const std::string& out_path, const std::vector<GgufKv>& kvs,
                    const std::vector<GgufTensorToWrite>& tensors) {
  const GgufFile f = GgufFile::open(written);
  auto fail = [&](const std::string& what) {
    return std::runtime_error(fmt::format("{}: verification after writing failed: {}", out_path, what));
  };
  if (f.kvs().size() != kvs.size()) throw fail(fmt::format("{} keys written, {} read back", kvs.size(), f.kvs().size()));
  for (size_t i = 0; i < kvs.size(); ++i) {
    const GgufKv& want = kvs[i];
    const GgufKv& got = f.kvs()[i];
    const bool same = got.key == want.key && (want.raw.empty() ? got.value == want.value : got.raw == want.raw);
    if (!same) throw fail(fmt::format("key '{}' differs", want.key));
  }
  if (f.tensors().size() != tensors.size())
    throw fail(fmt::format("{} tensors written, {} read back", tensors.size(), f.tensors().size()));
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorToWrite& want = tensors[i];
    const formats::GgufTensorInfo& got = f.tensors()[i];
    const bool same = got.name == want.name && got.dims == want.dims && got.type == want.type && got.nbytes == want.nbytes &&
                      (want.nbytes == 0 || std::memcmp(got.data, want.data, want.nbytes) == 0);
    if (!same) throw fail(fmt::format("tensor '{}' differs", want.name));
  }
}

}  // namespace

GgufExportMode parse_gguf_export_mode(const std::string& name) {
  if (name == "longrope") return GgufExportMode::LONGROPE;
  if (name == "freqs") return GgufExportMode::FREQS;
  throw InvalidSetting("gguf_mode", "unknown GGUF mode '" + name + "' (expected longrope or freqs)");
}

GgufExportReport export_gguf(const FactorTable& table, const std::string& in_path, const std::string& out_path,
                             const GgufExportOptions& options, const std::string& table_source) {
  if (same_file(in_path, out_path))
    throw InvalidSetting("out", fmt::format("the output must differ from the input GGUF '{}'", in_path));
  const GgufFile in = GgufFile::open(in_path);
  auto error = [&](const std::string& key, const std::string& what) {
    return formats::FormatError(fmt::format("{}: key '{}': {}", in_path, key, what));
  };

  GgufExportReport report;
  const std::string arch = in.get_string("general.architecture");
  report.architecture = arch;
  auto key = [&](const char* suffix) { return arch + "." + suffix; };

  std::string n_rot_source = key("rope.dimension_count");
  if (in.find(n_rot_source) != nullptr) {
    report.n_rot = static_cast<int64_t>(in.get_uint(n_rot_source));
  } else if (in.find(key("embedding_length")) != nullptr && in.find(key("attention.head_count")) != nullptr) {
    // As llama.cpp: n_rot defaults to the head dimension, attention.key_length or embedding_length / head_count.
    const uint64_t heads = in.get_uint(key("attention.head_count"));
    if (heads == 0) throw error(key("attention.head_count"), "is 0");
    report.n_rot = static_cast<int64_t>(in.find(key("attention.key_length")) ? in.get_uint(key("attention.key_length"))
                                                                               : in.get_uint(key("embedding_length")) / heads);
    n_rot_source = in.find(key("attention.key_length")) ? key("attention.key_length") : key("embedding_length") + " / attention.head_count";
  } else {
    throw error(n_rot_source, "missing, and so is embedding_length or attention.head_count");
  }
  const auto n = static_cast<int64_t>(table.lambda.size());
  if (report.n_rot != 2 * n)
    throw error(n_rot_source, fmt::format("n_rot {} needs {} factors, the table {} has {}", report.n_rot,
                                          report.n_rot / 2, table_source, n));
  if (table.rotary_dim > 0 && table.rotary_dim != report.n_rot)
    throw error(n_rot_source, fmt::format("n_rot {} but the table was searched for rotary dim {}", report.n_rot, table.rotary_dim));
  const double freq_base = in.find(key("rope.freq_base")) ? in.get_float(key("rope.freq_base")) : 10000.0;
  if (table.rope_base > 0 && std::abs(freq_base - table.rope_base) > 1e-6 * table.rope_base)
    throw error(key("rope.freq_base"), fmt::format("{} but the table was searched with rope base {}", freq_base, table.rope_base));
  if (options.mode == GgufExportMode::FREQS && arch != "llama")
    throw InvalidSetting("gguf_mode", fmt::format("{}: key 'general.architecture': '{}' does not read rope_freqs.weight (freqs "
                                                  "mode is for the llama architecture); use longrope", in_path, arch));

  int64_t model_original = 0;
  if (in.find(key("rope.scaling.original_context_length")))
    model_original = static_cast<int64_t>(in.get_uint(key("rope.scaling.original_context_length")));
  else if (in.find(key("context_length")))
    model_original = static_cast<int64_t>(in.get_uint(key("context_length")));
  report.values = resolve_export_values(table, options.request, model_original, table_source);
  const ExportValues& v = report.values;
  if (v.target_length > std::numeric_limits<uint32_t>::max())
    throw std::runtime_error(fmt::format("{}: target_length {} does not fit {}'s UINT32", table_source, v.target_length,
                                         key("context_length")));

  // What changes: keys to set (in this order when appended) and to remove, tensors likewise.
  const GgufValue* old_context = in.find(key("context_length"));
  const GgufValue context = old_context != nullptr && old_context->type() == formats::GgufType::UINT64
                                ? GgufValue::u64(static_cast<uint64_t>(v.target_length))
                                : GgufValue::u32(static_cast<uint32_t>(v.target_length));
  std::vector<std::pair<std::string, GgufValue>> set_keys;
  std::vector<std::string> remove_keys = {key("rope.scaling.factor"), key("rope.scale_linear")};
  std::vector<std::pair<std::string, std::vector<float>>> set_tensors;
  std::vector<std::string> remove_tensors;
  if (options.mode == GgufExportMode::LONGROPE) {
    set_keys.emplace_back(key("rope.scaling.type"), GgufValue::string("longrope"));
    set_keys.emplace_back(key("rope.scaling.original_context_length"), GgufValue::u32(static_cast<uint32_t>(v.original_length)));
    set_keys.emplace_back(key("rope.scaling.attn_factor"), GgufValue::f32(static_cast<float>(v.attention_factor)));
    set_keys.emplace_back(key("context_length"), context);
    set_tensors.emplace_back(kLongName, to_f32(v.long_factor));
    set_tensors.emplace_back(kShortName, to_f32(v.short_factor));
    remove_tensors.push_back(kFreqsName);
  } else {
    set_keys.emplace_back(key("rope.scaling.type"), GgufValue::string("none"));
    // L for whoever reads the file back (longrope itself): llama.cpp uses it for YaRN only.
    set_keys.emplace_back(key("rope.scaling.original_context_length"), GgufValue::u32(static_cast<uint32_t>(v.original_length)));
    set_keys.emplace_back(key("rope.scaling.attn_factor"), GgufValue::f32(static_cast<float>(v.attention_factor)));
    set_keys.emplace_back(key("context_length"), context);
    set_tensors.emplace_back(kFreqsName, to_f32(v.long_factor));
    remove_tensors = {kLongName, kShortName};
    if (!table.short_lambda.empty())
      report.values.warnings.push_back("warning: freqs mode has one table for every length: short_lambda is not exported");
  }

  auto contains = [](const std::vector<std::string>& names, const std::string& name) {
    for (const auto& x : names) if (x == name) return true;
    return false;
  };
  std::vector<GgufKv> kvs;
  std::vector<bool> key_done(set_keys.size(), false);
  for (const GgufKv& kv : in.kvs()) {
    if (contains(remove_keys, kv.key)) {
      report.removed.push_back(kv.key);
      continue;
    }
    size_t i = 0;
    while (i < set_keys.size() && set_keys[i].first != kv.key) ++i;
    if (i == set_keys.size()) {
      kvs.push_back(kv);  // raw bytes and all
      continue;
    }
    kvs.push_back(GgufKv{kv.key, set_keys[i].second, {}});
    key_done[i] = true;
  }
  for (size_t i = 0; i < set_keys.size(); ++i) {
    if (!key_done[i]) kvs.push_back(GgufKv{set_keys[i].first, set_keys[i].second, {}});
    report.set.push_back(set_keys[i].first);
  }

  auto factor_tensor = [&](const std::string& name, const std::vector<float>& values) {
    return GgufTensorToWrite{name, {static_cast<uint64_t>(values.size())}, GgmlType::F32, values.data(),
                             values.size() * sizeof(float)};
  };
  std::vector<GgufTensorToWrite> tensors;
  std::vector<bool> tensor_done(set_tensors.size(), false);
  for (const auto& t : in.tensors()) {
    if (contains(remove_tensors, t.name)) {
      report.removed.push_back(t.name);
      continue;
    }
    size_t i = 0;
    while (i < set_tensors.size() && set_tensors[i].first != t.name) ++i;
    if (i == set_tensors.size()) {
      tensors.push_back(GgufTensorToWrite{t.name, t.dims, t.type, t.data, t.nbytes});
      continue;
    }
    tensors.push_back(factor_tensor(t.name, set_tensors[i].second));
    tensor_done[i] = true;
  }
  for (size_t i = 0; i < set_tensors.size(); ++i) {
    if (!tensor_done[i]) tensors.push_back(factor_tensor(set_tensors[i].first, set_tensors[i].second));
    report.set.push_back(set_tensors[i].first);
  }

  formats::AtomicFile file(out_path);
  formats::write_gguf_to(file.stream(), kvs, tensors);
  file.flush();  // names the cause of a failed write (a full disk, a file-size limit)
  verify_written(file.temp_path(), out_path, kvs, tensors);
  file.commit();
  return report;
}

}  // namespace longrope
