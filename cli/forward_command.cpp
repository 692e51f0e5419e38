// longrope forward: logits of one token sequence, written as .npy, so that other runtimes
// (transformers, llama.cpp) can be checked against this one on the same weights and tokens.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/runtime_options.h"
#include "eval/documents.h"
#include "formats/npy.h"

namespace po = boost::program_options;

namespace longrope {

int forward_command(const std::vector<std::string>& args) {
  std::string model_dir, tokens_path, out;
  RuntimeArgs runtime;
  RopeArgs rope;
  po::options_description o("Forward");
  o.add_options()
      ("model", po::value(&model_dir)->required(), kModelHelp)
      ("tokens", po::value(&tokens_path)->required(), "token ids: .npy (1-D integers), .u16 or .u32")
      ("out", po::value(&out)->required(), "logits as a float32 .npy of shape (T, V)");
  o.add(rope_options(rope, /*allow_list=*/false)).add(runtime_options(runtime));
  if (!parse_command_line("forward", "--model DIR --tokens FILE --out LOGITS.npy [options]", args, o)) return 0;
  const ModelOptions options = make_model_options(runtime);
  const LlamaModel model = LlamaModel::load(model_dir, options);
  const std::vector<Document> docs = load_documents(DocumentSource{tokens_path, "auto", "", ""});
  if (docs.size() != 1 || docs[0].tokens.empty()) throw std::invalid_argument(tokens_path + ": expected one non-empty token sequence");
  const std::vector<int32_t>& ids = docs[0].tokens;
  const int64_t t = static_cast<int64_t>(ids.size());
  for (int32_t id : ids)
    if (id >= model.config().vocab_size) throw std::invalid_argument(fmt::format("{}: token id {} outside the vocabulary", tokens_path, id));
  const RopeScaling scaling = make_rope_scaling(model.config(), make_rope_spec(rope, rope.method), t);
  const RopeTable table = build_rope_table(model.rope_geometry(), scaling, t, model.device(), model.dtype());
  c10::InferenceMode guard;
  at::Tensor tokens = at::from_blob(const_cast<int32_t*>(ids.data()), {1, t}, at::kInt).to(at::kLong);
  at::Tensor logits = model.logits(model.hidden_states(tokens, table)).squeeze(0).to(at::kCPU).contiguous();
  formats::write_npy(out, formats::DType::F32, {logits.size(0), logits.size(1)}, logits.data_ptr(), logits.nbytes());
  fmt::print("wrote {} logits ({} x {}) with RoPE {}\n", out, logits.size(0), logits.size(1), scaling.method);
  return 0;
}

}  // namespace longrope
