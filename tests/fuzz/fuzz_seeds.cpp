// Writes the seed corpus of every fuzz target (scripts/fuzz.sh runs it into an empty corpus): the
// fixtures of the unit tests, written by the project's own writers, so that the fuzzer starts from
// valid files and mutates from there.
#include <fstream>
#include <string>
#include <vector>

#include "tables/factor_table.h"
#include "formats/gguf.h"
#include "formats/npy.h"
#include "formats/safetensors.h"
#include "tests/tokenizer/tiny_tokenizer.h"

namespace {

using namespace longrope;
using namespace longrope::formats;

void put(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];  // DIR/<target>/ must exist for every target
  const std::vector<float> weights = {1.0f, -2.5f, 0.125f, 3.0f, 0.5f, -1.0f};
  const std::vector<uint16_t> halves = {0x3c00, 0xc000, 0x3800};
  write_safetensors(dir + "/safetensors/two-tensors.safetensors",
                    {{"model.norm.weight", DType::F32, {2, 3}, weights.data(), 24}, {"h", DType::F16, {3}, halves.data(), 6}},
                    {{"format", "pt"}});
  write_safetensors(dir + "/safetensors/empty.safetensors", {});

  const json tokenizer = tiny_tokenizer_json();
  std::vector<std::string> tokens(22), merges;
  for (const auto& [token, id] : tokenizer["model"]["vocab"].items()) tokens[id.get<size_t>()] = token;
  for (const auto& merge : tokenizer["model"]["merges"]) merges.push_back(merge.get<std::string>());
  write_gguf(dir + "/gguf/llama.gguf",
             {{"general.architecture", GgufValue::string("llama")},
              {"llama.block_count", GgufValue::u32(1)},
              {"llama.rope.freq_base", GgufValue::f32(10000.0f)},
              {"tokenizer.ggml.model", GgufValue::string("gpt2")},
              {"tokenizer.ggml.pre", GgufValue::string("gpt-2")},
              {"tokenizer.ggml.tokens", GgufValue::string_array(tokens)},
              {"tokenizer.ggml.merges", GgufValue::string_array(merges)},
              {"tokenizer.ggml.bos_token_id", GgufValue::u32(20)}},
             {{"output_norm.weight", {6}, GgmlType::F32, weights.data(), 24}, {"rope_freqs.weight", {3}, GgmlType::F32, weights.data(), 12}});

  const std::vector<int32_t> ids = {1, 2, 3, 255};
  write_npy(dir + "/npy/ids-i32.npy", DType::I32, {4}, ids.data(), 16);
  write_npy(dir + "/npy/rows-u16.npy", DType::U16, {1, 3}, halves.data(), 6);

  FactorTable table;
  table.model = "models/tiny";
  table.rope_base = 10000;
  table.rotary_dim = 8;
  table.original_length = 64;
  table.target_length = 512;
  table.scale = 8;
  table.lambda = {1.0, 1.5, 4.0, 8.0};
  table.start_tokens = 4;
  table.attention_factor = 1.2;
  table.short_lambda = {1.0, 1.0, 1.1, 1.2};
  table.details = {{"search_ppl", 5.5}, {"settings", {{"seed", 42}}}};
  put(dir + "/factor_table/table.json", factor_table_to_json(table).dump(2));
  put(dir + "/factor_table/result_final.csv", "1.000000000000000000e+00\n1.500000000000000000e+00\n4.0\n8.0\n");

  put(dir + "/tokenizer_json/tiny.json", tokenizer.dump());
  json with_template = tokenizer;
  with_template["post_processor"] = {{"type", "TemplateProcessing"},
                                     {"single", {{{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}},
                                                 {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                                     {"special_tokens", {{"<|endoftext|>", {{"id", "<|endoftext|>"}, {"ids", {20}}, {"tokens", {"<|endoftext|>"}}}}}}};
  put(dir + "/tokenizer_json/template.json", with_template.dump());

  // Drawn by FuzzedDataProvider: the byte alphabet, then tokens, ids and merges.
  put(dir + "/tokenizer_vocab/alphabet.bin", std::string("\x01\x08" "hello" "\x00\x03" "world" "\x00\x05\x02\x01\x01", 19));
  put(dir + "/tokenizer_vocab/far-id.bin", std::string("\x00\x02" "ab" "\x01\xff\xff\xff\x7f\x01\x00", 11));

  put(dir + "/bpe_encode/hello.txt", "hello world 2020 caf\xc3\xa9");
  put(dir + "/bpe_encode/special.txt", "<|endoftext|>hello<|endoftext|>  world\n\n\t20");
  put(dir + "/bpe_encode/unicode.txt", "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 don't I'm 1234567");
  return 0;
}
