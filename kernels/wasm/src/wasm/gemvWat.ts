// WAT source of the quantized GEMV kernels: y[m, n] = x[m, k] · Wᵀ for a few rows (decode),
// read straight from the packed bytes. Each output row's bytes are streamed once for all m
// tokens; per-token accumulators are unrolled by code (one specialised loop per m = 1..4).
// Multiply and add stay separate (no relaxed-SIMD FMA) so results do not depend on the runtime.

/** Most rows one GEMV pass handles (more rows run in passes of this many). */
export const GEMV_MAX_ROWS = 4;
/** int4 weights per inner step (16 packed bytes); the group size must be a multiple. */
export const GEMV_INT4_BLOCK = 32;
/** int8 weights per inner step (16 bytes); `in` must be a multiple. */
export const GEMV_INT8_BLOCK = 16;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Bytes of scratch the GEMV exports need: the re-laid-out x plus (int4) per-group sums of x. */
export function gemvWorkspaceBytes(options: { m: number; k: number; groups?: number }): number {
  return 4 * (options.m * options.k + options.m * (options.groups ?? 0)) + 64;
}

/** i8x16.swizzle mask moving bytes 4i..4i+3 into the low byte of four i32 lanes (others zero). */
function byteToLaneMask(i: number): string {
  return range(16)
    .map((b) => (b % 4 === 0 ? 4 * i + b / 4 : 255))
    .join(' ');
}

/** Bytes → i32 lanes 4i..4i+3 of a u8x16 already widened to two u16x8 halves (`half16`). */
const widenU = (half16: string, i: number) => `(i32x4.extend_${i % 2 === 0 ? 'low' : 'high'}_i16x8_u (local.get ${half16}))`;

/** The nibble mask, set once per call (V8 does not hoist vector constants out of loops). */
const MASK_INIT = `(local.set $mask (v128.const i8x16 ${range(16)
  .map(() => 15)
  .join(' ')}))`;

const hsum = (v: string) =>
  `(f32.add (f32.add (f32x4.extract_lane 0 ${v}) (f32x4.extract_lane 1 ${v})) (f32.add (f32x4.extract_lane 2 ${v}) (f32x4.extract_lane 3 ${v})))`;

/**
 * Prepass for int4: xi[(b·m + t)·32 + p] holds token t's block b with even columns first
 * (p < 16 ↔ column 2p, else column 2(p−16)+1), matching the low / high nibbles of 16 bytes;
 * xs[g·m + t] = Σ x over group g (the zero point is applied once per group).
 */
function int4Prepass(): string {
  return `
  (func $gemvInt4Prepass (param $x i32) (param $m i32) (param $k i32) (param $group i32) (param $xi i32) (param $xs i32)
    (local $t i32) (local $i i32) (local $j i32) (local $v f32) (local $sum f32) (local $left i32) (local $ps i32)
    (local.set $t (i32.const 0))
    (loop $tokens
      (local.set $i (i32.const 0))
      (local.set $sum (f32.const 0))
      (local.set $left (local.get $group))
      (local.set $ps (i32.add (local.get $xs) (i32.shl (local.get $t) (i32.const 2))))
      (loop $cols
        (local.set $v (f32.load (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $k)) (local.get $i)) (i32.const 2)))))
        (local.set $j (i32.and (local.get $i) (i32.const 31)))
        (f32.store
          (i32.add (local.get $xi) (i32.shl (i32.add
            (i32.shl (i32.add (i32.mul (i32.shr_u (local.get $i) (i32.const 5)) (local.get $m)) (local.get $t)) (i32.const 5))
            (i32.add (i32.shr_u (local.get $j) (i32.const 1)) (i32.shl (i32.and (local.get $j) (i32.const 1)) (i32.const 4)))) (i32.const 2)))
          (local.get $v))
        (local.set $sum (f32.add (local.get $sum) (local.get $v)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $left (i32.sub (local.get $left) (i32.const 1)))
        (if (i32.eqz (local.get $left))
          (then
            (f32.store (local.get $ps) (local.get $sum))
            (local.set $ps (i32.add (local.get $ps) (i32.shl (local.get $m) (i32.const 2))))
            (local.set $left (local.get $group))
            (local.set $sum (f32.const 0))))
        (br_if $cols (i32.lt_u (local.get $i) (local.get $k))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $tokens (i32.lt_u (local.get $t) (local.get $m)))))`;
}

/** Prepass for int8: xi[(b·m + t)·16 + p] = x[t][16b + p] (tokens interleaved per block). */
function int8Prepass(): string {
  return `
  (func $gemvInt8Prepass (param $x i32) (param $m i32) (param $k i32) (param $xi i32)
    (local $t i32) (local $b i32) (local $src i32)
    (local.set $t (i32.const 0))
    (loop $tokens
      (local.set $b (i32.const 0))
      (local.set $src (i32.add (local.get $x) (i32.shl (i32.mul (local.get $t) (local.get $k)) (i32.const 2))))
      (loop $blocks
        (memory.copy
          (i32.add (local.get $xi) (i32.shl (i32.add (i32.mul (local.get $b) (local.get $m)) (local.get $t)) (i32.const 6)))
          (local.get $src) (i32.const 64))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br_if $blocks (i32.lt_u (i32.shl (local.get $b) (i32.const 4)) (local.get $k))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $tokens (i32.lt_u (local.get $t) (local.get $m)))))`;
}

/**
 * int4 GEMV for exactly `m` tokens. For each output row and group: the 16-byte steps split
 * into low / high nibbles, are widened to f32 by byte swizzles and multiplied with the
 * matching even / odd x columns; then acc += scale · dot and corr += scale · zero · Σx.
 */
function int4Gemv(m: number): string {
  const tokens = range(m);
  // Products are summed in pairs before they reach the two per-token dot accumulators (low
  // and high nibbles), so each accumulator's add chain is 2 long per 16 bytes, not 8.
  const locals = tokens.flatMap((t) => [`(local $acc${t} v128)`, `(local $dl${t} v128)`, `(local $dh${t} v128)`, `(local $corr${t} f32)`]).join(' ');
  // Codes are 0..15, so the signed conversion is exact — and one instruction on x64, where
  // V8 expands f32x4.convert_i32x4_u into a multi-instruction sequence (measured 1.8× slower).
  const weight = (half: 'lo' | 'hi', i: number) => `(f32x4.convert_i32x4_s ${widenU(`$${half}16${i >> 1}`, i)})`;
  const xAt = (t: number, half: 'lo' | 'hi', i: number) => `(v128.load offset=${(t * 32 + (half === 'hi' ? 16 : 0) + 4 * i) * 4} (local.get $px))`;
  const nibbles = (half: 'lo' | 'hi') =>
    [0, 2]
      .map((i) => {
        const acc = half === 'hi' ? '$dh' : '$dl';
        return [
          `(local.set $w ${weight(half, i)})`,
          `(local.set $w2 ${weight(half, i + 1)})`,
          ...tokens.map(
            (t) =>
              `(local.set ${acc}${t} (f32x4.add (local.get ${acc}${t}) (f32x4.add (f32x4.mul (local.get $w) ${xAt(t, half, i)}) (f32x4.mul (local.get $w2) ${xAt(t, half, i + 1)}))))`,
          ),
        ].join('\n            ');
      })
      .join('\n            ');
  const perGroup = tokens
    .map((t) => {
      const dot = `(f32x4.add (local.get $dl${t}) (local.get $dh${t}))`;
      return `(local.set $acc${t} (f32x4.add (local.get $acc${t}) (f32x4.mul (f32x4.splat (local.get $s)) ${dot})))
          (local.set $corr${t} (f32.add (local.get $corr${t}) (f32.mul (local.get $sz)
            (f32.load offset=${t * 4} (i32.add (local.get $xs) (i32.shl (i32.mul (local.get $g) (i32.const ${m})) (i32.const 2)))))))`;
    })
    .join('\n          ');
  return `
  (func $gemvInt4M${m} (param $xi i32) (param $xs i32) (param $q i32) (param $scales i32) (param $zeros i32) (param $group i32)
    (param $y i32) (param $n i32) (param $k i32)
    ${locals} (local $o i32) (local $g i32) (local $groups i32) (local $pe i32) (local $px i32)
    (local $b v128) (local $lo v128) (local $hi v128) (local $w v128) (local $w2 v128) (local $s f32) (local $sz f32) (local $mask v128)
    (local $lo160 v128) (local $lo161 v128) (local $hi160 v128) (local $hi161 v128)
    ${MASK_INIT}
    (local.set $groups (i32.div_u (local.get $k) (local.get $group)))
    (local.set $o (i32.const 0))
    (loop $rows
      ${tokens.map((t) => `(local.set $acc${t} (v128.const i32x4 0 0 0 0)) (local.set $corr${t} (f32.const 0))`).join('\n      ')}
      (local.set $px (local.get $xi))
      (local.set $g (i32.const 0))
      (loop $groupLoop
        ${tokens.map((t) => `(local.set $dl${t} (v128.const i32x4 0 0 0 0)) (local.set $dh${t} (v128.const i32x4 0 0 0 0))`).join('\n        ')}
        (local.set $pe (i32.add (local.get $q) (i32.shr_u (local.get $group) (i32.const 1))))
        (loop $blocks
          (local.set $b (v128.load (local.get $q)))
          (local.set $lo (v128.and (local.get $b) (local.get $mask)))
          (local.set $hi (v128.and (i16x8.shr_u (local.get $b) (i32.const 4)) (local.get $mask)))
          (local.set $lo160 (i16x8.extend_low_i8x16_u (local.get $lo)))
          (local.set $lo161 (i16x8.extend_high_i8x16_u (local.get $lo)))
          (local.set $hi160 (i16x8.extend_low_i8x16_u (local.get $hi)))
          (local.set $hi161 (i16x8.extend_high_i8x16_u (local.get $hi)))
            ${nibbles('lo')}
            ${nibbles('hi')}
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (local.set $px (i32.add (local.get $px) (i32.const ${m * 128})))
          (br_if $blocks (i32.lt_u (local.get $q) (local.get $pe))))
        (local.set $s (f32.load (local.get $scales)))
        (local.set $sz (f32.mul (local.get $s) (f32.load (local.get $zeros))))
        ${perGroup}
        (local.set $scales (i32.add (local.get $scales) (i32.const 4)))
        (local.set $zeros (i32.add (local.get $zeros) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br_if $groupLoop (i32.lt_u (local.get $g) (local.get $groups))))
      ${tokens
        .map(
          (t) =>
            `(f32.store (i32.add (local.get $y) (i32.shl (i32.mul (local.get $n) (i32.const ${t})) (i32.const 2)))
        (f32.sub ${hsum(`(local.get $acc${t})`)} (local.get $corr${t})))`,
        )
        .join('\n      ')}
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $o) (local.get $n)))))`;
}

/** int8 GEMV for exactly `m` tokens: 16 signed bytes widened by two extends per step. */
function int8Gemv(m: number): string {
  const tokens = range(m);
  const widen = [
    '(i32x4.extend_low_i16x8_s (local.get $h0))',
    '(i32x4.extend_high_i16x8_s (local.get $h0))',
    '(i32x4.extend_low_i16x8_s (local.get $h1))',
    '(i32x4.extend_high_i16x8_s (local.get $h1))',
  ];
  // Two accumulators per token (even / odd quarter) for m ≤ 2, as in the int4 loop.
  const split = m <= 2;
  const accFor = (t: number, i: number) => (split && i % 2 === 1 ? `$ab${t}` : `$aa${t}`);
  const steps = widen
    .map((expr, i) =>
      [
        `(local.set $w (f32x4.convert_i32x4_s ${expr}))`,
        ...tokens.map(
          (t) =>
            `(local.set ${accFor(t, i)} (f32x4.add (local.get ${accFor(t, i)}) (f32x4.mul (local.get $w) (v128.load offset=${(t * 16 + 4 * i) * 4} (local.get $px)))))`,
        ),
      ].join('\n          '),
    )
    .join('\n          ');
  const locals = tokens.map((t) => `(local $aa${t} v128)${split ? ` (local $ab${t} v128)` : ''}`).join(' ');
  const total = (t: number) => (split ? `(f32x4.add (local.get $aa${t}) (local.get $ab${t}))` : `(local.get $aa${t})`);
  return `
  (func $gemvInt8M${m} (param $xi i32) (param $q i32) (param $scales i32) (param $y i32) (param $n i32) (param $k i32)
    ${locals} (local $o i32) (local $pe i32) (local $px i32) (local $b v128) (local $h0 v128) (local $h1 v128) (local $w v128)
    (local.set $o (i32.const 0))
    (loop $rows
      ${tokens.map((t) => `(local.set $aa${t} (v128.const i32x4 0 0 0 0))${split ? ` (local.set $ab${t} (v128.const i32x4 0 0 0 0))` : ''}`).join('\n      ')}
      (local.set $px (local.get $xi))
      (local.set $pe (i32.add (local.get $q) (local.get $k)))
      (loop $blocks
        (local.set $b (v128.load (local.get $q)))
        (local.set $h0 (i16x8.extend_low_i8x16_s (local.get $b)))
        (local.set $h1 (i16x8.extend_high_i8x16_s (local.get $b)))
          ${steps}
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (local.set $px (i32.add (local.get $px) (i32.const ${m * 64})))
        (br_if $blocks (i32.lt_u (local.get $q) (local.get $pe))))
      ${tokens
        .map(
          (t) => `(f32.store (i32.add (local.get $y) (i32.shl (i32.mul (local.get $n) (i32.const ${t})) (i32.const 2)))
        (f32.mul ${hsum(total(t))} (f32.load (local.get $scales))))`,
        )
        .join('\n      ')}
      (local.set $scales (i32.add (local.get $scales) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $o) (local.get $n)))))`;
}

/**
 * Dequantizers writing W [n, k] float32: int4 re-interleaves the low / high nibbles of 16
 * bytes into column order with two shuffles, then W = code · s − zero · s per group.
 */
function dequantize(): string {
  const inOrder = (first: number) => range(16).map((j) => (j % 2 === 0 ? first + j / 2 : 16 + first + (j - 1) / 2)).join(' ');
  const int4Stores = [0, 1]
    .flatMap((v) =>
      range(4).map(
        (i) => `(v128.store offset=${(v * 16 + 4 * i) * 4} (local.get $out) (f32x4.sub (f32x4.mul (f32x4.convert_i32x4_s
            (i8x16.swizzle (local.get $n${v}) (v128.const i8x16 ${byteToLaneMask(i)}))) (local.get $s)) (local.get $sz)))`,
      ),
    )
    .join('\n          ');
  const int8Widen = [
    '(i32x4.extend_low_i16x8_s (local.get $h0))',
    '(i32x4.extend_high_i16x8_s (local.get $h0))',
    '(i32x4.extend_low_i16x8_s (local.get $h1))',
    '(i32x4.extend_high_i16x8_s (local.get $h1))',
  ];
  const int8Stores = int8Widen
    .map((expr, i) => `(v128.store offset=${16 * i} (local.get $out) (f32x4.mul (f32x4.convert_i32x4_s ${expr}) (local.get $s)))`)
    .join('\n        ');
  return `
  (func $dequantInt4 (export "dequantInt4") (param $q i32) (param $scales i32) (param $zeros i32) (param $group i32)
    (param $out i32) (param $n i32) (param $k i32)
    (local $end i32) (local $pe i32) (local $b v128) (local $lo v128) (local $hi v128) (local $n0 v128) (local $n1 v128)
    (local $s v128) (local $sz v128) (local $mask v128)
    ${MASK_INIT}
    (local.set $end (i32.add (local.get $q) (i32.shr_u (i32.mul (local.get $n) (local.get $k)) (i32.const 1))))
    (loop $groups
      (local.set $s (f32x4.splat (f32.load (local.get $scales))))
      (local.set $sz (f32x4.mul (local.get $s) (f32x4.splat (f32.load (local.get $zeros)))))
      (local.set $pe (i32.add (local.get $q) (i32.shr_u (local.get $group) (i32.const 1))))
      (loop $blocks
        (local.set $b (v128.load (local.get $q)))
        (local.set $lo (v128.and (local.get $b) (local.get $mask)))
        (local.set $hi (v128.and (i16x8.shr_u (local.get $b) (i32.const 4)) (local.get $mask)))
        (local.set $n0 (i8x16.shuffle ${inOrder(0)} (local.get $lo) (local.get $hi)))
        (local.set $n1 (i8x16.shuffle ${inOrder(8)} (local.get $lo) (local.get $hi)))
          ${int4Stores}
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 128)))
        (br_if $blocks (i32.lt_u (local.get $q) (local.get $pe))))
      (local.set $scales (i32.add (local.get $scales) (i32.const 4)))
      (local.set $zeros (i32.add (local.get $zeros) (i32.const 4)))
      (br_if $groups (i32.lt_u (local.get $q) (local.get $end)))))
  (func $dequantInt8 (export "dequantInt8") (param $q i32) (param $scales i32) (param $out i32) (param $n i32) (param $k i32)
    (local $o i32) (local $pe i32) (local $b v128) (local $h0 v128) (local $h1 v128) (local $s v128)
    (local.set $o (i32.const 0))
    (loop $rows
      (local.set $s (f32x4.splat (f32.load (local.get $scales))))
      (local.set $pe (i32.add (local.get $q) (local.get $k)))
      (loop $blocks
        (local.set $b (v128.load (local.get $q)))
        (local.set $h0 (i16x8.extend_low_i8x16_s (local.get $b)))
        (local.set $h1 (i16x8.extend_high_i8x16_s (local.get $b)))
        ${int8Stores}
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 64)))
        (br_if $blocks (i32.lt_u (local.get $q) (local.get $pe))))
      (local.set $scales (i32.add (local.get $scales) (i32.const 4)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $o) (local.get $n)))))`;
}

const dispatch = (prefix: string, args: string) =>
  range(GEMV_MAX_ROWS)
    .map((i) => `(if (i32.eq (local.get $m) (i32.const ${i + 1})) (then (call $${prefix}M${i + 1} ${args}) return))`)
    .join('\n    ');

/**
 * All GEMV functions. Exports (pointers are heap byte offsets, x and y row-major and
 * contiguous, 1 ≤ m ≤ 4, `work` ≥ {@link gemvWorkspaceBytes}):
 * - `gemvInt4(x, q, scales, zeros, group, y, m, n, k, work)`: group % 32 == 0, k % group == 0.
 * - `gemvInt8(x, q, scales, y, m, n, k, work)`: k % 16 == 0.
 * - `dequantInt4(q, scales, zeros, group, out, n, k)` and `dequantInt8(q, scales, out, n, k)`:
 *   W [n, k] float32, same constraints.
 */
export function gemvWat(): string {
  const rows = range(GEMV_MAX_ROWS).map((i) => i + 1);
  return `${int4Prepass()}
${int8Prepass()}
${rows.map(int4Gemv).join('\n')}
${rows.map(int8Gemv).join('\n')}
${dequantize()}
  (func $gemvInt4 (export "gemvInt4") (param $x i32) (param $q i32) (param $scales i32) (param $zeros i32) (param $group i32)
    (param $y i32) (param $m i32) (param $n i32) (param $k i32) (param $work i32)
    (local $xs i32)
    (local.set $xs (i32.add (local.get $work) (i32.shl (i32.mul (local.get $m) (local.get $k)) (i32.const 2))))
    (call $gemvInt4Prepass (local.get $x) (local.get $m) (local.get $k) (local.get $group) (local.get $work) (local.get $xs))
    ${dispatch('gemvInt4', '(local.get $work) (local.get $xs) (local.get $q) (local.get $scales) (local.get $zeros) (local.get $group) (local.get $y) (local.get $n) (local.get $k)')}
    unreachable)
  (func $gemvInt8 (export "gemvInt8") (param $x i32) (param $q i32) (param $scales i32) (param $y i32)
    (param $m i32) (param $n i32) (param $k i32) (param $work i32)
    (call $gemvInt8Prepass (local.get $x) (local.get $m) (local.get $k) (local.get $work))
    ${dispatch('gemvInt8', '(local.get $work) (local.get $q) (local.get $scales) (local.get $y) (local.get $n) (local.get $k)')}
    unreachable)`;
}
