// A custom autograd function whose backward recomputes its forward with gradients on.
#include "models/activation_checkpoint.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdint>

namespace longrope {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct CheckpointedSegment : torch::autograd::Function<CheckpointedSegment> {
  static at::Tensor forward(AutogradContext* ctx, at::TensorList inputs, int64_t segment_address) {
    ctx->save_for_backward(inputs.vec());
    ctx->saved_data["segment"] = segment_address;
    return (*reinterpret_cast<const Segment*>(static_cast<intptr_t>(segment_address)))(inputs.vec());  // grad mode is off here
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    const Segment& segment = *reinterpret_cast<const Segment*>(static_cast<intptr_t>(ctx->saved_data["segment"].toInt()));
    std::vector<at::Tensor> inputs, wanted;
    std::vector<size_t> wanted_index;
    for (const at::Tensor& saved : ctx->get_saved_variables()) {
      at::Tensor input = saved.detach();
      if (input.is_floating_point()) {
        input.requires_grad_(true);
        wanted_index.push_back(inputs.size());
        wanted.push_back(input);
      }
      inputs.push_back(input);
    }
    variable_list grads(inputs.size() + 1);  // one per input, and none for the segment's address
    at::AutoGradMode with_gradients(true);
    const at::Tensor output = segment(inputs);
    const variable_list found = torch::autograd::grad({output}, wanted, {grad_output[0]}, /*retain_graph=*/false,
                                                      /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t i = 0; i < found.size(); ++i) grads[wanted_index[i]] = found[i];
    return grads;
  }
};

}  // namespace

at::Tensor checkpointed(const Segment& segment, const std::vector<at::Tensor>& inputs) {
  return CheckpointedSegment::apply(at::TensorList(inputs), static_cast<int64_t>(reinterpret_cast<intptr_t>(&segment)));
}

}  // namespace longrope
