// Activation checkpointing: a piece of a forward whose intermediate tensors autograd does not keep;
// the backward runs the piece again from its saved inputs. Per layer, a backward at the target
// length then holds each layer's input and one layer's activations at a time, not every layer's
// attention and MLP intermediates (issue: search cost, gradient-refined λ).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace longrope {

using Segment = std::function<at::Tensor(const std::vector<at::Tensor>& inputs)>;

// segment(inputs) under autograd without its intermediates. The backward calls `segment` again, so
// it must outlive every backward through the result (a caller that runs its backward before
// returning keeps its segments in a local container). Gradients flow to the floating-point inputs.
at::Tensor checkpointed(const Segment& segment, const std::vector<at::Tensor>& inputs);

}  // namespace longrope
