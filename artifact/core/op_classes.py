"""The seven operation classes A-G of the paper's Fig 6, as data: which TensorFlow op types each one holds.

The paper groups "the operations into seven classes, listed from A to G" (§IV-B, Fig 6) without naming every
op; the classes below group today's op types the same way. The op profile (device side) sorts each executed
node into them; the report draws Fig 6 by them (host side): one mapping for both (stdlib only, Python 3.6).
"""
from typing import Dict, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

OTHER = "other"

# class letter -> (title, op types after normalize_op_type). Rule for anything not listed:
# a node under a "dequantize" name scope (or of type Dequantize) is G; any other unlisted op
# type (NoOp, control flow, ...) goes to the OTHER bucket, never silently into a class.
OP_CLASSES = {
    "A": ("Convolution", (
        "Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "FusedConv2D",
        "FusedDepthwiseConv2dNative", "FusedPadConv2D", "FusedResizeAndPadConv2D",
        "Conv2DWithBias", "QuantizedConv2D", "QuantizedDepthwiseConv2D")),
    "B": ("Matrix multiply", (
        "MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "FusedMatMul",
        "FusedBatchMatMulV2", "Einsum", "SparseTensorDenseMatMul", "QuantizedMatMul")),
    "C": ("Element-wise & activation", (
        "Add", "AddV2", "AddN", "BiasAdd", "Sub", "Mul", "RealDiv", "Div", "DivNoNan",
        "FloorDiv", "FloorMod", "Maximum", "Minimum", "Neg", "Abs", "Square",
        "SquaredDifference", "Sqrt", "Rsqrt", "Reciprocal", "Pow", "Exp", "Log", "Erf",
        "Floor", "Round", "Sign", "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid",
        "Tanh", "Softplus", "Softsign", "Swish", "Gelu", "Softmax", "LogSoftmax", "Select",
        "SelectV2", "Greater", "GreaterEqual", "Less", "LessEqual", "Equal", "NotEqual",
        "LogicalAnd", "LogicalOr", "LogicalNot", "ClipByValue")),
    "D": ("Normalization", (
        "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "FusedBatchNormEx",
        "BatchNormWithGlobalNormalization", "LRN", "LayerNorm", "FusedInstanceNorm")),
    "E": ("Pooling & reduction", (
        "MaxPool", "MaxPoolV2", "AvgPool", "MaxPool3D", "AvgPool3D", "Mean", "Sum", "Max",
        "Min", "Prod", "ArgMax", "ArgMin", "All", "Any", "TopKV2")),
    "F": ("Data movement & shape", (
        "Const", "Identity", "IdentityN", "Snapshot", "Placeholder", "Reshape", "Transpose",
        "ConjugateTranspose", "ConcatV2", "Concat", "Pack", "Unpack", "Split", "SplitV",
        "Slice", "StridedSlice", "Pad", "PadV2", "MirrorPad", "Squeeze", "ExpandDims",
        "Shape", "ShapeN", "Size", "Rank", "Fill", "Tile", "BroadcastTo", "GatherV2",
        "Gather", "GatherNd", "OneHot", "Range", "ZerosLike", "OnesLike", "ResizeBilinear",
        "ResizeNearestNeighbor", "DepthToSpace", "SpaceToDepth", "SpaceToBatchND",
        "BatchToSpaceND", "ReadVariableOp", "ResourceGather", "ResourceGatherNd", "Send", "Recv", "HostSend",
        "HostRecv",
        "MemcpyH2D", "MemcpyD2H", "MemcpyD2D", "MemcpyP2P")),
    "G": ("Dequantization & casts", (
        "Dequantize", "Cast", "Bitcast", "QuantizeV2", "Requantize", "RequantizationRange",
        "QuantizeAndDequantizeV2", "QuantizeAndDequantizeV3", "QuantizeAndDequantizeV4",
        "FakeQuantWithMinMaxVars", "FakeQuantWithMinMaxArgs",
        "FakeQuantWithMinMaxVarsPerChannel")),
}  # type: Dict[str, Tuple[str, Tuple[str, ...]]]
