export { QuantizerError, type QuantizerErrorContext } from './errors.js';
export { packInt4, unpackInt4 } from './int4Pack.js';
export { type Int8Weight, type Int4Weight, type QuantizedWeight, quantizedBytes } from './quantizedWeight.js';
export {
  quantizeInt8,
  quantizeInt4,
  int4GroupParams,
  int4Code,
  roundToFloat16,
  type MatrixInput,
  type QuantizeInt4Options,
  type Int4GroupParams,
} from './rtn.js';
export { dequantize, dequantizeRowsInto } from './dequantize.js';
export { HessianAccumulator } from './hessian.js';
export { gptqQuantizeInt4, type GptqOptions } from './gptq.js';
export { packedGemv, quantizeActivationsInt8 } from './gemv.js';
export {
  QuantizedLinear,
  WASM_QUANT_KERNELS,
  type ActivationQuant,
  type QuantizedLinearOptions,
  type QuantizedPath,
} from './quantizedLinear.js';
export { parseScheme, schemeFor, SCHEME_NAMES, DEFAULT_FLOAT_RULES, type QuantScheme, type QuantRule } from './scheme.js';
export {
  quantizeModel,
  quantizeWeight,
  type QuantizeModelOptions,
  type QuantizeModelResult,
  type QuantizedTensorInfo,
} from './quantizeModel.js';
export {
  saveQuantizedModel,
  loadQuantizedModel,
  readQuantizationConfig,
  type QuantizationConfig,
  type SaveQuantizedOptions,
} from './quantizedIo.js';
export {
  perplexity,
  greedyDecode,
  measurePeakMemory,
  packedHostBytes,
  type PerplexityOptions,
  type GreedyDecodeOptions,
} from './evaluate.js';
export {
  GgmlType,
  GGML_BLOCK,
  ggmlTensorBytes,
  quantizeQ8_0,
  quantizeQ4_0,
  dequantizeQ8_0,
  dequantizeQ4_0,
  encodeGgmlTensor,
} from './gguf/ggmlBlocks.js';
export {
  encodeGguf,
  encodeGgufHeader,
  writeGgufFile,
  GgufValueType,
  type GgufValue,
  type GgufScalarType,
  type GgufTensorInput,
  type GgufWriteOptions,
} from './gguf/ggufWriter.js';
export { tokenizerGgufMetadata, KNOWN_GGUF_PRE_TOKENIZERS, type TokenizerMetadataOptions } from './gguf/tokenizerMetadata.js';
export {
  deepseek2Metadata,
  deepseek2Tensors,
  ggufTensorName,
  ggmlTypeFor,
  GGUF_EXPORT_TYPES,
  type GgufExportType,
} from './gguf/deepseek2Gguf.js';
export { exportGguf, type ExportGgufOptions, type ExportGgufResult } from './gguf/exportGguf.js';
