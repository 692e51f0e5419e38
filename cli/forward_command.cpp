// longrope forward: logits of one token sequence, written as .npy, so that other runtimes
// (transformers, llama.cpp) can be checked against this one on the same weights and tokens.
#include <ATen/core/Tensor.h>
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/shared_options.h"
#include "eval/open_evaluation.h"
#include "eval/perplexity.h"
#include "formats/atomic_file.h"
#include "formats/npy.h"
#include "util/errors.h"

namespace po = boost::program_options;

namespace longrope {

int forward_command(const std::vector<std::string>& args) {
  std::string tokens_path, out;
  int64_t max_tokens = 16384;
  ModelArgs model;
  RuntimeArgs runtime;
  RopeArgs rope;
  po::options_description o("Forward");
  o.add_options()
      ("tokens", po::value(&tokens_path)->required(), "token ids: .npy (1-D integers), .u16 or .u32 (a text file is read as bytes)")
      ("out", po::value(&out)->required(), "logits as a float32 .npy of shape (T, V)")
      ("max-tokens", po::value(&max_tokens)->default_value(max_tokens),
       "refuse longer sequences (one forward holds all T×V logits in memory)");
  o.add(model_options(model)).add(rope_options(rope, /*allow_list=*/false, /*decoding=*/true)).add(runtime_options(runtime, RuntimeOptionSet::Decoding));
  if (!parse_command_line("forward", "--model DIR --tokens FILE --out LOGITS.npy [options]", args, o)) return 0;
  if (max_tokens < 1) throw UsageError(fmt::format("--max-tokens must be positive, got {}", max_tokens));
  const RopeMethodSpec spec = make_rope_specs(rope, {rope.method}).front();
  formats::check_output_files("--out", {out}, joined(model_inputs(model), {{"--tokens", tokens_path}, {"--table", rope.table},
                                                                         {"--method table:", spec.table_source},
                                                                         {"--compose-with", rope.compose_with}}));

  // Token ids as given: no tokenizer is consulted (a text file is read as bytes) and no BOS is added.
  DataArgs as_given;
  as_given.tokenizer = "bytes";
  as_given.bos = "none";
  const EvaluationSetup setup = open_evaluation(model, as_given, runtime);
  const std::vector<Document> docs = setup.read_documents(tokens_path);
  if (docs.size() != 1 || docs[0].tokens.empty()) throw std::runtime_error(tokens_path + ": expected one non-empty token sequence");
  const int64_t length = static_cast<int64_t>(docs[0].tokens.size());
  if (length > max_tokens)
    throw UsageError(fmt::format("{}: {} tokens, more than --max-tokens {} (the logits alone take {:.1f} GB)", tokens_path, length,
                                 max_tokens, 4.0 * static_cast<double>(length) * static_cast<double>(setup.config().vocab_size) / 1e9));
  const at::Tensor logits = forward_logits(setup.model(), docs[0], make_rope_scaling(setup.config(), spec, length));
  formats::write_npy(out, formats::DType::F32, {logits.size(0), logits.size(1)}, logits.data_ptr(), logits.nbytes());
  fmt::print("wrote {} logits ({} x {}) with RoPE {}\n", out, logits.size(0), logits.size(1), rope.method);
  return 0;
}

}  // namespace longrope
