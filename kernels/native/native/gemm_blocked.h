// The blocked GEMM driver (packing + loop nest around a register-tile micro-kernel),
// written once and instantiated by each ISA translation unit with its own traits.
//
// Everything is in an anonymous namespace on purpose: each translation unit is compiled with
// different -m flags, and internal linkage keeps the linker from merging, say, an AVX-512
// instantiation into the portable build. No std:: templates are used here for the same reason.
#pragma once

#include <cstring>

#include "gemm_types.h"

namespace deepline {
namespace {

using Index = std::ptrdiff_t;

inline Index min_index(Index a, Index b) { return a < b ? a : b; }

// Packs `count` (<= W) lanes of depth `depth` into dst[p*W + lane], zero-filling lanes
// >= count so the micro-kernel always runs a full tile. Source element (lane l, depth p) is
// src[l*lane_stride + p*depth_stride]. Traits::transpose8 handles the unit-depth-stride case
// (a row-major A, or a transposed B) eight lanes by eight depths at a time.
template <class Traits, int W>
void pack_panel(const float* src, Index lane_stride, Index depth_stride, int count, Index depth, float* dst) {
  if (lane_stride == 1) {
    // Lanes are contiguous for each depth: one (vector) copy per depth step.
    for (Index p = 0; p < depth; ++p) {
      const float* s = src + p * depth_stride;
      float* d = dst + p * W;
      if (count == W) {
        Traits::template copy_lanes<W>(s, d);
      } else {
        int l = 0;
        for (; l < count; ++l) d[l] = s[l];
        for (; l < W; ++l) d[l] = 0.0f;
      }
    }
    return;
  }
  Index p0 = 0;
  if (depth_stride == 1 && depth >= 8) {
    // Each lane is contiguous along depth: transpose 8x8 blocks. Stores are 8 wide, so a
    // group that ends past W spills into the next depth row (or the buffer's slack). The last
    // group goes first and transpose8 stores rows in increasing order, so every spill is
    // overwritten by a later store (the following row, group 0 or the next block).
    const Index blocks = depth / 8;
    for (Index blk = 0; blk < blocks; ++blk, p0 += 8) {
      for (int l0 = ((W - 1) / 8) * 8; l0 >= 0; l0 -= 8) {
        const float* rows[8];
        for (int q = 0; q < 8; ++q) {
          const int lane = l0 + q;
          rows[q] = (lane < count && lane < W) ? src + lane * lane_stride + p0 : nullptr;
        }
        Traits::transpose8(rows, dst + p0 * W + l0, W);
      }
    }
  }
  for (Index p = p0; p < depth; ++p) {
    float* d = dst + p * W;
    int l = 0;
    for (; l < count; ++l) d[l] = src[l * lane_stride + p * depth_stride];
    for (; l < W; ++l) d[l] = 0.0f;
  }
}

// Adds (or copies) the valid mr x nr corner of a full register tile into C.
template <int MR, int NR>
void store_partial(const float* tile, float* c, Index ldc, int mr, int nr, bool accumulate) {
  for (int i = 0; i < mr; ++i) {
    float* row = c + i * ldc;
    const float* t = tile + i * NR;
    if (accumulate) {
      for (int j = 0; j < nr; ++j) row[j] += t[j];
    } else {
      for (int j = 0; j < nr; ++j) row[j] = t[j];
    }
  }
}

// Runs the micro-kernel with exactly `rows` (<= MR) rows and, when `half`, half the register
// tile's columns, into a tile buffer: edge tiles then cost what they compute, not a full tile.
template <class Traits, int R>
inline void edge_kernel(int rows, bool half, Index kc, const float* a, const float* b, float* tile) {
  if constexpr (R > 0) {
    if (rows == R) {
      if (half) {
        Traits::template kernel<R, Traits::NV / 2>(kc, a, b, tile, Traits::NR, false);
      } else {
        Traits::template kernel<R, Traits::NV>(kc, a, b, tile, Traits::NR, false);
      }
      return;
    }
    edge_kernel<Traits, R - 1>(rows, half, kc, a, b, tile);
  }
}

// Goto/BLIS loop nest: N blocks (nc) -> K blocks (kc, B packed once) -> M blocks (mc, A packed)
// -> NR column strips -> MR row strips -> micro-kernel. The first K block writes C, later
// ones accumulate, so C never needs zeroing.
// Floats a pre-packed B (k x n) takes: its kc x nc blocks, each rounded up to whole NR
// strips, in the order gemm_blocked visits them.
template <class Traits>
Index packed_b_size(Index k, Index n) {
  Index total = 0;
  for (Index jc = 0; jc < n; jc += Traits::NC) {
    const Index nc = min_index(Traits::NC, n - jc);
    total += (nc + Traits::NR - 1) / Traits::NR * Traits::NR * k;
  }
  return total;
}

// Packs all of B once into dst (packed_b_size floats plus 64 of slack for transpose spills):
// exactly the panels gemm_blocked would pack, block after block.
template <class Traits>
void pack_b_blocked(const float* b, Index rsb, Index csb, Index k, Index n, float* dst) {
  constexpr int NR = Traits::NR;
  for (Index jc = 0; jc < n; jc += Traits::NC) {
    const Index nc = min_index(Traits::NC, n - jc);
    const Index strips = (nc + NR - 1) / NR * NR;
    for (Index pc = 0; pc < k; pc += Traits::KC) {
      const Index kc = min_index(Traits::KC, k - pc);
      for (Index jr = 0; jr < nc; jr += NR) {
        const int nr = static_cast<int>(min_index(NR, nc - jr));
        pack_panel<Traits, NR>(b + pc * rsb + (jc + jr) * csb, csb, rsb, nr, kc, dst + jr * kc);
      }
      dst += strips * kc;
    }
  }
}

// `bpacked` (from pack_b_blocked, or null): B already packed, so its panels are read in place.
template <class Traits>
void gemm_blocked(const GemmProblem& pr, float* apack, float* bpack, const float* bpacked = nullptr) {
  constexpr int MR = Traits::MR;
  constexpr int NR = Traits::NR;
  constexpr Index MC = Traits::MC;
  constexpr Index KC = Traits::KC;
  constexpr Index NC = Traits::NC;
  static_assert(MC % MR == 0 && NC % NR == 0, "blocks must be whole register tiles");
  alignas(64) float tile[MR * NR];
  for (Index jc = 0; jc < pr.n; jc += NC) {
    const Index nc = min_index(NC, pr.n - jc);
    for (Index pc = 0; pc < pr.k; pc += KC) {
      const Index kc = min_index(KC, pr.k - pc);
      const bool accumulate = pc > 0;
      const float* bblock = bpack;
      if (bpacked) {
        bblock = bpacked;
        bpacked += (nc + NR - 1) / NR * NR * kc;
      } else {
        for (Index jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(min_index(NR, nc - jr));
          pack_panel<Traits, NR>(pr.b + pc * pr.rsb + (jc + jr) * pr.csb, pr.csb, pr.rsb, nr, kc, bpack + jr * kc);
        }
      }
      for (Index ic = 0; ic < pr.m; ic += MC) {
        const Index mc = min_index(MC, pr.m - ic);
        for (Index ir = 0; ir < mc; ir += MR) {
          const int mr = static_cast<int>(min_index(MR, mc - ir));
          pack_panel<Traits, MR>(pr.a + (ic + ir) * pr.rsa + pc * pr.csa, pr.rsa, pr.csa, mr, kc, apack + ir * kc);
        }
        for (Index jr = 0; jr < nc; jr += NR) {
          const int nr = static_cast<int>(min_index(NR, nc - jr));
          const float* bstrip = bblock + jr * kc;
          for (Index ir = 0; ir < mc; ir += MR) {
            const int mr = static_cast<int>(min_index(MR, mc - ir));
            const float* astrip = apack + ir * kc;
            float* c = pr.c + (ic + ir) * pr.ldc + jc + jr;
            if (mr == MR && nr == NR) {
              Traits::template kernel<MR, Traits::NV>(kc, astrip, bstrip, c, pr.ldc, accumulate);
            } else {
              edge_kernel<Traits, MR>(mr, 2 * nr <= NR, kc, astrip, bstrip, tile);
              store_partial<MR, NR>(tile, c, pr.ldc, mr, nr, accumulate);
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace deepline
