// N-API bindings: a float32 GEMM over caller-owned memory (an ArrayBuffer such as the tfjs-wasm
// heap, or typed arrays) plus the ISA and thread-pool controls. Every pointer the kernels
// touch is bounds-checked here first, so a bad call throws instead of corrupting memory.
#define NAPI_VERSION 8
#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gemm.h"
#include "napi_util.h"
#include "ops.h"
#include "text.h"

namespace {

using deepline::BatchedGemm;
using deepline::GemmProblem;

// Indices into the Float64Array of gemm() parameters.
enum Param {
  kAOffset,      // byte offset of A's first batch entry in `a`
  kBOffset,      // byte offset of B's first batch entry in `b`
  kCOffset,      // byte offset of C in `c`
  kM,
  kN,
  kK,
  kRsa,          // element strides of A (row, column)
  kCsa,
  kRsb,          // element strides of B (row, column)
  kCsb,
  kLdc,          // row stride of C in elements
  kBatches,
  kCBatchStride, // elements between consecutive C batch entries
  kParamCount
};

using deepline::napi::throw_error;
using deepline::napi::typed_array_of;

// Base pointer and size in bytes of an ArrayBuffer or a typed array (its own view).
bool buffer_of(napi_env env, napi_value value, const char* name, std::uint8_t** data, std::size_t* bytes) {
  bool is = false;
  napi_is_arraybuffer(env, value, &is);
  if (is) {
    void* ptr = nullptr;
    if (napi_get_arraybuffer_info(env, value, &ptr, bytes) != napi_ok) return throw_error(env, std::string(name) + ": cannot read ArrayBuffer");
    *data = static_cast<std::uint8_t*>(ptr);
    return true;
  }
  napi_is_typedarray(env, value, &is);
  if (is) {
    napi_typedarray_type type;
    std::size_t length = 0;
    void* ptr = nullptr;
    napi_value ab;
    std::size_t offset = 0;
    if (napi_get_typedarray_info(env, value, &type, &length, &ptr, &ab, &offset) != napi_ok) return throw_error(env, std::string(name) + ": cannot read typed array");
    std::size_t element = 1;
    if (type == napi_float32_array || type == napi_int32_array || type == napi_uint32_array) element = 4;
    else if (type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array) element = 8;
    else if (type == napi_int16_array || type == napi_uint16_array) element = 2;
    *data = static_cast<std::uint8_t*>(ptr);
    *bytes = length * element;
    return true;
  }
  return throw_error(env, std::string(name) + " must be an ArrayBuffer or a typed array");
}

bool whole(double v) { return std::isfinite(v) && v == std::floor(v); }

// Highest element index (exclusive) an operand touches from its first element.
double extent(double rows, double cols, double rs, double cs) { return (rows - 1) * rs + (cols - 1) * cs + 1; }

bool check_operand(napi_env env, const char* name, double offset_elems, double rows, double cols, double rs, double cs, std::size_t bytes) {
  if (rows <= 0 || cols <= 0) return true;
  const double end = (offset_elems + extent(rows, cols, rs, cs)) * 4.0;
  if (offset_elems < 0 || end > static_cast<double>(bytes)) {
    return throw_error(env, std::string(name) + " reaches past its buffer (" + std::to_string(static_cast<long long>(end)) + " > " + std::to_string(bytes) + " bytes)");
  }
  return true;
}

// gemm(a, b, c, params: Float64Array, offsets?: Int32Array)
napi_value Gemm(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 4) {
    throw_error(env, "gemm(a, b, c, params[, offsets]) needs at least 4 arguments");
    return nullptr;
  }
  std::uint8_t *a = nullptr, *b = nullptr, *c = nullptr;
  std::size_t a_bytes = 0, b_bytes = 0, c_bytes = 0;
  if (!buffer_of(env, argv[0], "a", &a, &a_bytes) || !buffer_of(env, argv[1], "b", &b, &b_bytes) || !buffer_of(env, argv[2], "c", &c, &c_bytes)) return nullptr;
  double* params = nullptr;
  std::size_t count = 0;
  if (!typed_array_of(env, argv[3], napi_float64_array, "params (Float64Array)", &params, &count)) return nullptr;
  if (count < kParamCount) {
    throw_error(env, "params must hold " + std::to_string(kParamCount) + " numbers");
    return nullptr;
  }
  for (int i = 0; i < kParamCount; ++i) {
    if (!whole(params[i]) || params[i] < 0) {
      throw_error(env, "params[" + std::to_string(i) + "] must be a non-negative integer");
      return nullptr;
    }
  }
  const double m = params[kM], n = params[kN], k = params[kK], batches = params[kBatches];
  for (int i : {kAOffset, kBOffset, kCOffset}) {
    if (static_cast<std::uint64_t>(params[i]) % 4 != 0) {
      throw_error(env, "operand byte offsets must be multiples of 4");
      return nullptr;
    }
  }
  if (batches < 1) {
    throw_error(env, "batches must be >= 1");
    return nullptr;
  }
  const std::int32_t* offsets = nullptr;
  std::size_t offset_count = 0;
  if (argc >= 5) {
    napi_valuetype t;
    napi_typeof(env, argv[4], &t);
    if (t != napi_undefined && t != napi_null) {
      if (!typed_array_of(env, argv[4], napi_int32_array, "offsets (Int32Array)", &offsets, &offset_count)) return nullptr;
      if (offset_count < 2 * static_cast<std::size_t>(batches)) {
        throw_error(env, "offsets must hold 2 entries per batch");
        return nullptr;
      }
    }
  }
  if (batches > 1 && !offsets && params[kCBatchStride] == 0) {
    throw_error(env, "a batch of more than one needs offsets");
    return nullptr;
  }
  const double a0 = params[kAOffset] / 4, b0 = params[kBOffset] / 4, c0 = params[kCOffset] / 4;
  thread_local std::vector<long> a_offsets, b_offsets;
  a_offsets.assign(static_cast<std::size_t>(batches), 0);
  b_offsets.assign(static_cast<std::size_t>(batches), 0);
  for (std::size_t i = 0; i < static_cast<std::size_t>(batches); ++i) {
    if (offsets) {
      a_offsets[i] = offsets[2 * i];
      b_offsets[i] = offsets[2 * i + 1];
    }
    if (!check_operand(env, "A", a0 + static_cast<double>(a_offsets[i]), m, k, params[kRsa], params[kCsa], a_bytes)) return nullptr;
    if (!check_operand(env, "B", b0 + static_cast<double>(b_offsets[i]), k, n, params[kRsb], params[kCsb], b_bytes)) return nullptr;
  }
  if (!check_operand(env, "C", c0 + (batches - 1) * params[kCBatchStride], m, n, params[kLdc], 1, c_bytes)) return nullptr;
  if (params[kLdc] < n && m > 1) {
    throw_error(env, "ldc must be >= n");
    return nullptr;
  }

  BatchedGemm batch;
  batch.first = GemmProblem{reinterpret_cast<const float*>(a) + static_cast<std::ptrdiff_t>(a0), static_cast<std::ptrdiff_t>(params[kRsa]), static_cast<std::ptrdiff_t>(params[kCsa]),
                            reinterpret_cast<const float*>(b) + static_cast<std::ptrdiff_t>(b0), static_cast<std::ptrdiff_t>(params[kRsb]), static_cast<std::ptrdiff_t>(params[kCsb]),
                            reinterpret_cast<float*>(c) + static_cast<std::ptrdiff_t>(c0), static_cast<std::ptrdiff_t>(params[kLdc]),
                            static_cast<std::ptrdiff_t>(m), static_cast<std::ptrdiff_t>(n), static_cast<std::ptrdiff_t>(k)};
  batch.batches = static_cast<long>(batches);
  batch.a_offsets = offsets ? a_offsets.data() : nullptr;
  batch.b_offsets = offsets ? b_offsets.data() : nullptr;
  batch.c_batch_stride = static_cast<std::ptrdiff_t>(params[kCBatchStride]);
  if (const char* err = deepline::run_gemm(batch)) throw_error(env, err);
  return nullptr;
}

// Pre-packed B: an ArrayBuffer with a 64-byte header (magic, kernel set, k, n), then the
// packed panels at the first 64-byte boundary after it (V8 never moves a backing store).
constexpr std::int32_t kPackedMagic = 0x44504b42;
constexpr std::size_t kPackedHeader = 64;

std::int32_t isa_id() {
  const std::string isa(deepline::active_isa());
  return isa == "avx512" ? 2 : isa == "avx2" ? 1 : 0;
}

float* packed_data(std::uint8_t* base) {
  const std::uintptr_t p = reinterpret_cast<std::uintptr_t>(base + kPackedHeader);
  return reinterpret_cast<float*>((p + 63) / 64 * 64);
}

// packB(b, params: Float64Array [bOffset bytes, k, n, rsb, csb]) -> ArrayBuffer
napi_value PackB(napi_env env, napi_callback_info info) {
  std::size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 2) {
    throw_error(env, "packB(b, params) needs 2 arguments");
    return nullptr;
  }
  std::uint8_t* b = nullptr;
  std::size_t b_bytes = 0;
  if (!buffer_of(env, argv[0], "b", &b, &b_bytes)) return nullptr;
  double* params = nullptr;
  std::size_t count = 0;
  if (!typed_array_of(env, argv[1], napi_float64_array, "params (Float64Array)", &params, &count)) return nullptr;
  if (count < 5) {
    throw_error(env, "packB params must hold 5 numbers");
    return nullptr;
  }
  for (int i = 0; i < 5; ++i) {
    if (!whole(params[i]) || params[i] < 0 || (i >= 1 && i <= 2 && params[i] < 1) || params[i] > 2147483647.0) {
      throw_error(env, "packB params[" + std::to_string(i) + "] must be a non-negative integer (k, n >= 1)");
      return nullptr;
    }
  }
  if (static_cast<std::uint64_t>(params[0]) % 4 != 0) {
    throw_error(env, "operand byte offsets must be multiples of 4");
    return nullptr;
  }
  const double k = params[1], n = params[2];
  if (!check_operand(env, "B", params[0] / 4, k, n, params[3], params[4], b_bytes)) return nullptr;
  const auto floats = static_cast<std::size_t>(deepline::packed_b_size(static_cast<std::ptrdiff_t>(k), static_cast<std::ptrdiff_t>(n)));
  void* data = nullptr;
  napi_value out;
  if (napi_create_arraybuffer(env, kPackedHeader + 64 + (floats + 64) * sizeof(float), &data, &out) != napi_ok) {
    throw_error(env, "packB: cannot allocate the packed buffer");
    return nullptr;
  }
  auto* base = static_cast<std::uint8_t*>(data);
  const std::int32_t header[4] = {kPackedMagic, isa_id(), static_cast<std::int32_t>(k), static_cast<std::int32_t>(n)};
  std::memcpy(base, header, sizeof(header));
  deepline::pack_b(reinterpret_cast<const float*>(b) + static_cast<std::ptrdiff_t>(params[0] / 4), static_cast<std::ptrdiff_t>(params[3]),
                   static_cast<std::ptrdiff_t>(params[4]), static_cast<std::ptrdiff_t>(k), static_cast<std::ptrdiff_t>(n), packed_data(base));
  return out;
}

// gemmPacked(heap, packed: ArrayBuffer, params: Float64Array [aOffset, cOffset bytes, m, rsa, csa, ldc])
napi_value GemmPacked(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 3) {
    throw_error(env, "gemmPacked(heap, packed, params) needs 3 arguments");
    return nullptr;
  }
  std::uint8_t *heap = nullptr, *packed = nullptr;
  std::size_t heap_bytes = 0, packed_bytes = 0;
  if (!buffer_of(env, argv[0], "heap", &heap, &heap_bytes) || !buffer_of(env, argv[1], "packed", &packed, &packed_bytes)) return nullptr;
  double* params = nullptr;
  std::size_t count = 0;
  if (!typed_array_of(env, argv[2], napi_float64_array, "params (Float64Array)", &params, &count)) return nullptr;
  if (count < 6) {
    throw_error(env, "gemmPacked params must hold 6 numbers");
    return nullptr;
  }
  for (int i = 0; i < 6; ++i) {
    if (!whole(params[i]) || params[i] < 0) {
      throw_error(env, "gemmPacked params[" + std::to_string(i) + "] must be a non-negative integer");
      return nullptr;
    }
  }
  std::int32_t header[4] = {0, 0, 0, 0};
  if (packed_bytes >= kPackedHeader) std::memcpy(header, packed, sizeof(header));
  if (header[0] != kPackedMagic) {
    throw_error(env, "packed is not a buffer from packB");
    return nullptr;
  }
  if (header[1] != isa_id()) {
    throw_error(env, "packed was packed for another kernel set; pack it again");
    return nullptr;
  }
  const double k = header[2], n = header[3], m = params[2];
  const auto floats = static_cast<std::size_t>(deepline::packed_b_size(header[2], header[3]));
  if (packed_bytes < kPackedHeader + 64 + (floats + 64) * sizeof(float)) {
    throw_error(env, "packed buffer is too small for its shape");
    return nullptr;
  }
  if (static_cast<std::uint64_t>(params[0]) % 4 != 0 || static_cast<std::uint64_t>(params[1]) % 4 != 0) {
    throw_error(env, "operand byte offsets must be multiples of 4");
    return nullptr;
  }
  if (!check_operand(env, "A", params[0] / 4, m, k, params[3], params[4], heap_bytes)) return nullptr;
  if (!check_operand(env, "C", params[1] / 4, m, n, params[5], 1, heap_bytes)) return nullptr;
  if (params[5] < n && m > 1) {
    throw_error(env, "ldc must be >= n");
    return nullptr;
  }
  const GemmProblem p{reinterpret_cast<const float*>(heap) + static_cast<std::ptrdiff_t>(params[0] / 4), static_cast<std::ptrdiff_t>(params[3]),
                      static_cast<std::ptrdiff_t>(params[4]), nullptr, 0, 0,
                      reinterpret_cast<float*>(heap) + static_cast<std::ptrdiff_t>(params[1] / 4), static_cast<std::ptrdiff_t>(params[5]),
                      static_cast<std::ptrdiff_t>(m), static_cast<std::ptrdiff_t>(n), static_cast<std::ptrdiff_t>(k)};
  if (const char* err = deepline::run_gemm_packed(p, packed_data(packed))) throw_error(env, err);
  return nullptr;
}

// Reads (heap, params: Float64Array) and checks that params holds `count` numbers.
bool heap_and_params(napi_env env, napi_callback_info info, std::size_t count, std::uint8_t** heap, std::size_t* bytes, double** params) {
  std::size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 2) return throw_error(env, "expected (heap, params)");
  if (!buffer_of(env, argv[0], "heap", heap, bytes)) return false;
  std::size_t n = 0;
  if (!typed_array_of(env, argv[1], napi_float64_array, "params (Float64Array)", params, &n)) return false;
  if (n < count) return throw_error(env, "params must hold " + std::to_string(count) + " numbers");
  return true;
}

// Pointer to `floats` floats at byte `offset` of the heap, or null (after throwing) when the
// range is misaligned or outside it.
float* region(napi_env env, std::uint8_t* heap, std::size_t bytes, double offset, double floats, const char* name) {
  if (!whole(offset) || offset < 0 || static_cast<std::uint64_t>(offset) % 4 != 0 || offset + floats * 4 > static_cast<double>(bytes)) {
    throw_error(env, std::string(name) + " is misaligned or outside the heap");
    return nullptr;
  }
  return reinterpret_cast<float*>(heap + static_cast<std::size_t>(offset));
}

bool dims_ok(napi_env env, const double* d, int count) {
  for (int i = 0; i < count; ++i) {
    if (!whole(d[i]) || d[i] < 1) return throw_error(env, "dimensions must be positive integers");
  }
  return true;
}

// attentionForward(heap, [q, k, v, out, probs (byte offsets), batch, tq, tk, heads, dim, scale, causal])
napi_value AttentionForward(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::uint8_t* heap = nullptr;
  std::size_t bytes = 0;
  double* p = nullptr;
  if (!heap_and_params(env, info, 12, &heap, &bytes, &p) || !dims_ok(env, p + 5, 5)) return nullptr;
  const deepline::AttentionShape s{static_cast<long>(p[5]), static_cast<long>(p[6]), static_cast<long>(p[7]), static_cast<long>(p[8]),
                                   static_cast<long>(p[9]), static_cast<float>(p[10]), p[11] != 0};
  const double qn = p[5] * p[6] * p[8] * p[9], kn = p[5] * p[7] * p[8] * p[9], pn = p[5] * p[8] * p[6] * p[7];
  float* q = region(env, heap, bytes, p[0], qn, "q");
  float* k = q ? region(env, heap, bytes, p[1], kn, "k") : nullptr;
  float* v = k ? region(env, heap, bytes, p[2], kn, "v") : nullptr;
  float* out = v ? region(env, heap, bytes, p[3], qn, "out") : nullptr;
  float* probs = out ? region(env, heap, bytes, p[4], pn, "probs") : nullptr;
  if (!probs) return nullptr;
  if (const char* err = deepline::attention_forward(s, q, k, v, out, probs)) throw_error(env, err);
  return nullptr;
}

// attentionBackward(heap, [q, k, v, probs, dy, dq, dk, dv (byte offsets), batch, tq, tk, heads, dim, scale])
napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::uint8_t* heap = nullptr;
  std::size_t bytes = 0;
  double* p = nullptr;
  if (!heap_and_params(env, info, 14, &heap, &bytes, &p) || !dims_ok(env, p + 8, 5)) return nullptr;
  const deepline::AttentionShape s{static_cast<long>(p[8]), static_cast<long>(p[9]), static_cast<long>(p[10]), static_cast<long>(p[11]),
                                   static_cast<long>(p[12]), static_cast<float>(p[13]), false};
  const double qn = p[8] * p[9] * p[11] * p[12], kn = p[8] * p[10] * p[11] * p[12], pn = p[8] * p[11] * p[9] * p[10];
  const double sizes[8] = {qn, kn, kn, pn, qn, qn, kn, kn};
  const char* names[8] = {"q", "k", "v", "probs", "dy", "dq", "dk", "dv"};
  float* ptr[8];
  for (int i = 0; i < 8; ++i) {
    ptr[i] = region(env, heap, bytes, p[i], sizes[i], names[i]);
    if (!ptr[i]) return nullptr;
  }
  if (const char* err = deepline::attention_backward(s, ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], ptr[6], ptr[7])) throw_error(env, err);
  return nullptr;
}

// crossEntropyForward(heap, [logits, labels, probs, loss (byte offsets), n, vocab]) -> bad row or -1
napi_value CrossEntropyForward(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::uint8_t* heap = nullptr;
  std::size_t bytes = 0;
  double* p = nullptr;
  if (!heap_and_params(env, info, 6, &heap, &bytes, &p) || !dims_ok(env, p + 4, 2)) return nullptr;
  float* logits = region(env, heap, bytes, p[0], p[4] * p[5], "logits");
  float* labels = logits ? region(env, heap, bytes, p[1], p[4], "labels") : nullptr;
  float* probs = labels ? region(env, heap, bytes, p[2], p[4] * p[5], "probs") : nullptr;
  float* loss = probs ? region(env, heap, bytes, p[3], 1, "loss") : nullptr;
  if (!loss) return nullptr;
  const long bad = deepline::cross_entropy_forward(logits, reinterpret_cast<const int*>(labels), probs, loss, static_cast<long>(p[4]), static_cast<long>(p[5]));
  napi_value out;
  napi_create_double(env, static_cast<double>(bad), &out);
  return out;
}

// adamStep(heap, [w, g, m, v, ow, om, ov (byte offsets), n, lr, beta1, beta2, epsilon, c1, c2])
napi_value AdamStep(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::uint8_t* heap = nullptr;
  std::size_t bytes = 0;
  double* p = nullptr;
  if (!heap_and_params(env, info, 14, &heap, &bytes, &p) || !dims_ok(env, p + 7, 1)) return nullptr;
  float* ptr[7];
  const char* names[7] = {"value", "grad", "m", "v", "value out", "m out", "v out"};
  for (int i = 0; i < 7; ++i) {
    ptr[i] = region(env, heap, bytes, p[i], p[7], names[i]);
    if (!ptr[i]) return nullptr;
  }
  const float hyper[6] = {static_cast<float>(p[8]), static_cast<float>(p[9]), static_cast<float>(p[10]), static_cast<float>(p[11]), static_cast<float>(p[12]),
                          static_cast<float>(p[13])};
  deepline::adam_step(ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], ptr[6], static_cast<long>(p[7]), hyper);
  return nullptr;
}

// rmsNormForward(heap, [x, weight, y, rstd (byte offsets), rows, dim, eps])
napi_value RmsNormForward(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::uint8_t* heap = nullptr;
  std::size_t bytes = 0;
  double* p = nullptr;
  if (!heap_and_params(env, info, 7, &heap, &bytes, &p) || !dims_ok(env, p + 4, 2)) return nullptr;
  float* x = region(env, heap, bytes, p[0], p[4] * p[5], "x");
  float* w = x ? region(env, heap, bytes, p[1], p[5], "weight") : nullptr;
  float* y = w ? region(env, heap, bytes, p[2], p[4] * p[5], "y") : nullptr;
  float* rstd = y ? region(env, heap, bytes, p[3], p[4], "rstd") : nullptr;
  if (rstd) deepline::rms_norm_forward(x, w, y, rstd, static_cast<long>(p[4]), static_cast<long>(p[5]), static_cast<float>(p[6]));
  return nullptr;
}

// rmsNormBackward(heap, [x, weight, rstd, dy, dx, dweight (byte offsets), rows, dim])
napi_value RmsNormBackward(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::uint8_t* heap = nullptr;
  std::size_t bytes = 0;
  double* p = nullptr;
  if (!heap_and_params(env, info, 8, &heap, &bytes, &p) || !dims_ok(env, p + 6, 2)) return nullptr;
  const double rows = p[6], dim = p[7];
  const double sizes[6] = {rows * dim, dim, rows, rows * dim, rows * dim, dim};
  const char* names[6] = {"x", "weight", "rstd", "dy", "dx", "dweight"};
  float* ptr[6];
  for (int i = 0; i < 6; ++i) {
    ptr[i] = region(env, heap, bytes, p[i], sizes[i], names[i]);
    if (!ptr[i]) return nullptr;
  }
  deepline::rms_norm_backward(ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], static_cast<long>(rows), static_cast<long>(dim));
  return nullptr;
}

// siluMul(heap, [g, u, y (byte offsets), n])
napi_value SiluMul(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::uint8_t* heap = nullptr;
  std::size_t bytes = 0;
  double* p = nullptr;
  if (!heap_and_params(env, info, 4, &heap, &bytes, &p) || !dims_ok(env, p + 3, 1)) return nullptr;
  float* g = region(env, heap, bytes, p[0], p[3], "gate");
  float* u = g ? region(env, heap, bytes, p[1], p[3], "up") : nullptr;
  float* y = u ? region(env, heap, bytes, p[2], p[3], "y") : nullptr;
  if (y) deepline::silu_mul(g, u, y, static_cast<long>(p[3]));
  return nullptr;
}

// siluMulBackward(heap, [g, u, dy, dg, du (byte offsets), n])
napi_value SiluMulBackward(napi_env env, napi_callback_info info) {
  const deepline::DenormalsAreZero ftz;
  std::uint8_t* heap = nullptr;
  std::size_t bytes = 0;
  double* p = nullptr;
  if (!heap_and_params(env, info, 6, &heap, &bytes, &p) || !dims_ok(env, p + 5, 1)) return nullptr;
  float* ptr[5];
  const char* names[5] = {"gate", "up", "dy", "dgate", "dup"};
  for (int i = 0; i < 5; ++i) {
    ptr[i] = region(env, heap, bytes, p[i], p[5], names[i]);
    if (!ptr[i]) return nullptr;
  }
  deepline::silu_mul_backward(ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], static_cast<long>(p[5]));
  return nullptr;
}

bool int_arg(napi_env env, napi_callback_info info, const char* what, double* out) {
  std::size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 1 || napi_get_value_double(env, argv[0], out) != napi_ok || !whole(*out) || *out < 0) {
    return throw_error(env, std::string(what) + " must be a non-negative integer");
  }
  return true;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  double n = 0;
  if (!int_arg(env, info, "threads", &n)) return nullptr;
  if (n < 1 || n > 256) {
    throw_error(env, "threads must be between 1 and 256");
    return nullptr;
  }
  deepline::set_threads(static_cast<int>(n));
  return nullptr;
}

napi_value Threads(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, deepline::threads(), &out);
  return out;
}

napi_value SetSpin(napi_env env, napi_callback_info info) {
  double us = 0;
  if (int_arg(env, info, "spin microseconds", &us)) deepline::set_spin_microseconds(static_cast<long>(us));
  return nullptr;
}

napi_value SetParallelMinFlops(napi_env env, napi_callback_info info) {
  double flops = 0;
  if (int_arg(env, info, "parallel minimum flops", &flops)) deepline::set_parallel_min_flops(flops);
  return nullptr;
}

napi_value SetIsa(napi_env env, napi_callback_info info) {
  std::size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  char name[32] = {0};
  std::size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof(name), &len) != napi_ok) {
    throw_error(env, "isa must be a string");
    return nullptr;
  }
  napi_value out;
  napi_get_boolean(env, deepline::select_isa(name), &out);
  return out;
}

napi_value Isa(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_string_utf8(env, deepline::active_isa(), NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value SupportedIsas(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_string_utf8(env, deepline::supported_isas(), NAPI_AUTO_LENGTH, &out);
  return out;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"packB", nullptr, PackB, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gemmPacked", nullptr, GemmPacked, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"threads", nullptr, Threads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setSpinMicroseconds", nullptr, SetSpin, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setParallelMinFlops", nullptr, SetParallelMinFlops, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setIsa", nullptr, SetIsa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"isa", nullptr, Isa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"supportedIsas", nullptr, SupportedIsas, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"attentionForward", nullptr, AttentionForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"attentionBackward", nullptr, AttentionBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"crossEntropyForward", nullptr, CrossEntropyForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adamStep", nullptr, AdamStep, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"rmsNormForward", nullptr, RmsNormForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"rmsNormBackward", nullptr, RmsNormBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"siluMul", nullptr, SiluMul, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"siluMulBackward", nullptr, SiluMulBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  deepline_register_text_kernels(env, exports);
  deepline_register_fasttext_kernels(env, exports);
  return exports;
}
