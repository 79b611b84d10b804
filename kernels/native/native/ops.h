// Fused ops around the GEMM, in place on caller memory (the tfjs-wasm heap): multi-head
// attention forward/backward on [B, T, H, D] tensors and SwiGLU's silu(g)*u. Semantics match
// @deepline/kernels-wasm's DeeplineAttention(Grad) / DeeplineSiluMul(Grad) kernels.
#pragma once

namespace deepline {

struct AttentionShape {
  long batch;
  long tq;     // query positions
  long tk;     // key/value positions
  long heads;
  long dim;    // head dim of q, k and v
  float scale;
  bool causal; // query i sees keys j <= i + tk - tq
};

// out[B,tq,H,D] = softmax(mask(q kT * scale)) v, probs[B,H,tq,tk] = the softmax.
const char* attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out, float* probs);
// Gradients of attention_forward for dy [B,tq,H,D], given its probs.
const char* attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* probs, const float* dy,
                               float* dq, float* dk, float* dv);

// probs[n, vocab] = softmax(logits) and *loss = mean over rows of -log(max(p[label], 1e-38)).
// Returns the first row whose label is outside [0, vocab) (nothing written then), or -1.
long cross_entropy_forward(const float* logits, const int* labels, float* probs, float* loss, long n, long vocab);

// One Adam step into fresh outputs; hyper = {lr, beta1, beta2, epsilon, c1, c2}.
void adam_step(const float* w, const float* g, const float* m, const float* v, float* ow, float* om, float* ov, long n, const float* hyper);
// RMSNorm over rows of `dim` (see KernelInfo::rms_norm), and its gradient (dw overwritten).
void rms_norm_forward(const float* x, const float* w, float* y, float* rstd, long rows, long dim, float eps);
void rms_norm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, long rows, long dim);

void silu_mul(const float* g, const float* u, float* y, long n);
void silu_mul_backward(const float* g, const float* u, const float* dy, float* dg, float* du, long n);

}  // namespace deepline
