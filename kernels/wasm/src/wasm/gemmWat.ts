// WAT source of the register-blocked SIMD GEMM. The micro-kernel is generated (its
// MR×NR accumulators are unrolled by hand, which WAT cannot loop over); the packing and
// blocking loops are written out plainly. All pointers and strides are in bytes, so the
// same code serves plain, transposed-A and transposed-B operands.

/** Rows of the micro-kernel tile (A broadcasts per k step). */
export const GEMM_MR = 4;
/** Columns of the micro-kernel tile (two f32x4 vectors). */
export const GEMM_NR = 8;
/** K block: a packed B panel (KC×NR floats, 8 KiB) stays in L1 while A streams. */
export const GEMM_KC = 256;
/** M block: packed A block (MC×KC floats, 64 KiB) stays in L2. */
export const GEMM_MC = 64;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** i8x16.shuffle lane list selecting f32 lanes (0-3 from the first operand, 4-7 the second). */
function f32Shuffle(lanes: number[]): string {
  return lanes.flatMap((l) => [0, 1, 2, 3].map((b) => l * 4 + b)).join(' ');
}

/**
 * Transposes four row vectors (locals $v0..$v3) into four column vectors, passing each
 * column to `emit(index, expression)`; uses locals $t0..$t3.
 */
function transpose4(emit: (index: number, expr: string) => string): string {
  const lo = f32Shuffle([0, 4, 1, 5]);
  const hi = f32Shuffle([2, 6, 3, 7]);
  const first = f32Shuffle([0, 1, 4, 5]);
  const second = f32Shuffle([2, 3, 6, 7]);
  return [
    `(local.set $t0 (i8x16.shuffle ${lo} (local.get $v0) (local.get $v1)))`,
    `(local.set $t1 (i8x16.shuffle ${hi} (local.get $v0) (local.get $v1)))`,
    `(local.set $t2 (i8x16.shuffle ${lo} (local.get $v2) (local.get $v3)))`,
    `(local.set $t3 (i8x16.shuffle ${hi} (local.get $v2) (local.get $v3)))`,
    emit(0, `(i8x16.shuffle ${first} (local.get $t0) (local.get $t2))`),
    emit(1, `(i8x16.shuffle ${second} (local.get $t0) (local.get $t2))`),
    emit(2, `(i8x16.shuffle ${first} (local.get $t1) (local.get $t3))`),
    emit(3, `(i8x16.shuffle ${second} (local.get $t1) (local.get $t3))`),
  ].join('\n          ');
}

const TRANSPOSE_LOCALS = '(local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)';

/** Bytes of scratch the `gemm` export needs for an N-column output. */
export function gemmWorkspaceBytes(n: number): number {
  const nPad = Math.ceil(n / GEMM_NR) * GEMM_NR;
  return 4 * (GEMM_KC * nPad + GEMM_MC * GEMM_KC + GEMM_MR * GEMM_NR) + 64;
}

/**
 * Micro-kernel: C[mv×nv] += Apacked[kc×MR] · Bpacked[kc×NR]. Full tiles add straight into
 * C; edge tiles go through `scratch` so padded lanes never touch memory outside C.
 */
function microKernel(fma: boolean): string {
  const vecs = GEMM_NR / 4;
  const accs = range(GEMM_MR).flatMap((r) => range(vecs).map((v) => `$acc_${r}_${v}`));
  const locals = [...accs, ...range(vecs).map((v) => `$b${v}`), '$av'].map((n) => `(local ${n} v128)`).join(' ');
  const step = range(GEMM_MR)
    .map((r) => {
      const lanes = range(vecs)
        .map((v) =>
          fma
            ? `(local.set $acc_${r}_${v} (f32x4.relaxed_madd (local.get $av) (local.get $b${v}) (local.get $acc_${r}_${v})))`
            : `(local.set $acc_${r}_${v} (f32x4.add (local.get $acc_${r}_${v}) (f32x4.mul (local.get $av) (local.get $b${v}))))`,
        )
        .join('\n        ');
      return `(local.set $av (v128.load32_splat offset=${r * 4} (local.get $pa)))\n        ${lanes}`;
    })
    .join('\n        ');
  const loads = range(vecs)
    .map((v) => `(local.set $b${v} (v128.load offset=${v * 16} (local.get $pb)))`)
    .join('\n        ');
  const fullStore = range(GEMM_MR)
    .flatMap((r) =>
      range(vecs).map(
        (v) =>
          `(v128.store offset=${v * 16} (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const ${r})))
          (select (f32x4.add (v128.load offset=${v * 16} (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const ${r})))) (local.get $acc_${r}_${v}))
            (local.get $acc_${r}_${v}) (local.get $add)))`,
      ),
    )
    .join('\n      ');
  const scratchStore = range(GEMM_MR)
    .flatMap((r) => range(vecs).map((v) => `(v128.store offset=${(r * GEMM_NR + v * 4) * 4} (local.get $scratch) (local.get $acc_${r}_${v}))`))
    .join('\n      ');
  return `
  (func $kernel (param $pa i32) (param $pb i32) (param $c i32) (param $ldc i32) (param $kc i32)
    (param $mv i32) (param $nv i32) (param $scratch i32) (param $add i32)
    ${locals} (local $r i32) (local $j i32) (local $dst i32)
    (block $done
      (br_if $done (i32.eqz (local.get $kc)))
      (loop $k
        ${loads}
        ${step}
        (local.set $pa (i32.add (local.get $pa) (i32.const ${GEMM_MR * 4})))
        (local.set $pb (i32.add (local.get $pb) (i32.const ${GEMM_NR * 4})))
        (local.set $kc (i32.sub (local.get $kc) (i32.const 1)))
        (br_if $k (local.get $kc))))
    (if (i32.and (i32.eq (local.get $mv) (i32.const ${GEMM_MR})) (i32.eq (local.get $nv) (i32.const ${GEMM_NR})))
      (then
      ${fullStore}
      return))
    ${scratchStore}
    (local.set $r (i32.const 0))
    (loop $rows
      (local.set $j (i32.const 0))
      (loop $cols
        (local.set $dst (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $ldc))) (i32.shl (local.get $j) (i32.const 2))))
        (f32.store (local.get $dst) (f32.add (select (f32.load (local.get $dst)) (f32.const 0) (local.get $add))
          (f32.load (i32.add (local.get $scratch) (i32.shl (i32.add (i32.mul (local.get $r) (i32.const ${GEMM_NR})) (local.get $j)) (i32.const 2))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $cols (i32.lt_u (local.get $j) (local.get $nv))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $r) (local.get $mv)))))`;
}

/**
 * packA: dst[i/MR][k][i%MR] = A(i, k) for i < mc, zero-padded to a multiple of MR rows.
 * Full panels of row-major A are moved with 4×4 SIMD transposes; transposed A (rsa = 4)
 * already holds each panel column contiguously, so it is one vector copy per k.
 */
function packA(): string {
  if (GEMM_MR !== 4) throw new Error('packA fast paths assume MR = 4');
  const rowAddr = (r: number) =>
    `(i32.add (i32.add (local.get $src) (i32.mul (local.get $rsa) (i32.const ${r}))) (i32.shl (local.get $k) (i32.const 2)))`;
  return `
  (func $packA (param $a i32) (param $rsa i32) (param $csa i32) (param $mc i32) (param $kc i32) (param $dst i32)
    (local $i0 i32) (local $k i32) (local $r i32) (local $row i32) (local $src i32) ${TRANSPOSE_LOCALS}
    (local.set $i0 (i32.const 0))
    (loop $panels
      (local.set $k (i32.const 0))
      (local.set $src (i32.add (local.get $a) (i32.mul (local.get $i0) (local.get $rsa))))
      (if (i32.le_u (i32.add (local.get $i0) (i32.const 4)) (local.get $mc))
        (then
          (if (i32.eq (local.get $csa) (i32.const 4))
            (then
              (block $tdone (loop $tk
                (br_if $tdone (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $kc)))
                ${range(4)
                  .map((r) => `(local.set $v${r} (v128.load ${rowAddr(r)}))`)
                  .join('\n                ')}
                ${transpose4((i, e) => `(v128.store offset=${i * 16} (local.get $dst) ${e})`)}
                (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $tk))))
            (else (if (i32.eq (local.get $rsa) (i32.const 4))
              (then
                (block $cdone (loop $ck
                  (br_if $cdone (i32.ge_u (local.get $k) (local.get $kc)))
                  (v128.store (local.get $dst) (v128.load (i32.add (local.get $src) (i32.mul (local.get $k) (local.get $csa)))))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $ck)))))))))
      (block $kdone (loop $ks
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $kc)))
        (local.set $r (i32.const 0))
        (loop $rs
          (local.set $row (i32.add (local.get $i0) (local.get $r)))
          (if (i32.lt_u (local.get $row) (local.get $mc))
            (then (f32.store (local.get $dst) (f32.load (i32.add (local.get $a)
              (i32.add (i32.mul (local.get $row) (local.get $rsa)) (i32.mul (local.get $k) (local.get $csa)))))))
            (else (f32.store (local.get $dst) (f32.const 0))))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rs (i32.lt_u (local.get $r) (i32.const ${GEMM_MR}))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $ks)))
      (local.set $i0 (i32.add (local.get $i0) (i32.const ${GEMM_MR})))
      (br_if $panels (i32.lt_u (local.get $i0) (local.get $mc)))))`;
}

/**
 * packB: dst[j/NR][k][j%NR] = B(k, j), zero-padded to a multiple of NR columns. Complete
 * panels of row-major B (csb = 4) are two vector copies per k; complete panels of
 * transposed B (rsb = 4) go through 4×4 SIMD transposes; edges are scalar.
 */
function packB(): string {
  if (GEMM_NR !== 8) throw new Error('packB fast paths assume NR = 8');
  const vecCopy = range(GEMM_NR / 4)
    .map((v) => `(v128.store offset=${v * 16} (local.get $dst) (v128.load offset=${v * 16} (local.get $src)))`)
    .join(' ');
  const half = (h: number) =>
    [
      ...range(4).map(
        (r) =>
          `(local.set $v${r} (v128.load (i32.add (local.get $src) (i32.add (i32.mul (local.get $csb) (i32.const ${h * 4 + r})) (i32.shl (local.get $k) (i32.const 2))))))`,
      ),
      transpose4((i, e) => `(v128.store offset=${i * 32 + h * 16} (local.get $dst) ${e})`),
    ].join('\n                ');
  return `
  (func $packB (param $b i32) (param $rsb i32) (param $csb i32) (param $kc i32) (param $n i32) (param $dst i32)
    (local $j0 i32) (local $k i32) (local $jj i32) (local $col i32) (local $src i32) (local $full i32) ${TRANSPOSE_LOCALS}
    (local.set $j0 (i32.const 0))
    (loop $panels
      (local.set $full (i32.le_u (i32.add (local.get $j0) (i32.const ${GEMM_NR})) (local.get $n)))
      (local.set $k (i32.const 0))
      (if (i32.and (local.get $full) (i32.eq (local.get $rsb) (i32.const 4)))
        (then
          (local.set $src (i32.add (local.get $b) (i32.mul (local.get $j0) (local.get $csb))))
          (block $tdone (loop $tk
            (br_if $tdone (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $kc)))
            ${half(0)}
            ${half(1)}
            (local.set $dst (i32.add (local.get $dst) (i32.const ${4 * GEMM_NR * 4})))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $tk)))))
      (block $kdone (loop $ks
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $kc)))
        (local.set $src (i32.add (local.get $b) (i32.add (i32.mul (local.get $k) (local.get $rsb)) (i32.mul (local.get $j0) (local.get $csb)))))
        (if (i32.and (local.get $full) (i32.eq (local.get $csb) (i32.const 4)))
          (then ${vecCopy} (local.set $dst (i32.add (local.get $dst) (i32.const ${GEMM_NR * 4}))))
          (else
            (local.set $jj (i32.const 0))
            (loop $cs
              (local.set $col (i32.add (local.get $j0) (local.get $jj)))
              (if (i32.lt_u (local.get $col) (local.get $n))
                (then (f32.store (local.get $dst) (f32.load (local.get $src))))
                (else (f32.store (local.get $dst) (f32.const 0))))
              (local.set $src (i32.add (local.get $src) (local.get $csb)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
              (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
              (br_if $cs (i32.lt_u (local.get $jj) (i32.const ${GEMM_NR}))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $ks)))
      (local.set $j0 (i32.add (local.get $j0) (i32.const ${GEMM_NR})))
      (br_if $panels (i32.lt_u (local.get $j0) (local.get $n)))))`;
}

/**
 * Blocked driver shared by float and dequantizing GEMMs: C (M×N, row stride ldc bytes) =
 * A·B; the first K block overwrites C and later ones add to it. `packBCall` fills a packed
 * B block for rows [pc, pc+kc).
 */
function driver(name: string, packBCall: string, extraParams: string): string {
  return `
  (func $${name} (export "${name}") (param $a i32) (param $rsa i32) (param $csa i32)
    ${extraParams} (param $c i32) (param $ldc i32) (param $m i32) (param $n i32) (param $kk i32) (param $work i32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32) (local $jr i32) (local $ir i32)
    (local $pB i32) (local $pA i32) (local $scratch i32) (local $npad i32) (local $mv i32) (local $nv i32)
    (local.set $npad (i32.and (i32.add (local.get $n) (i32.const ${GEMM_NR - 1})) (i32.const ${~(GEMM_NR - 1)})))
    (local.set $pB (i32.and (i32.add (local.get $work) (i32.const 15)) (i32.const -16)))
    (local.set $pA (i32.add (local.get $pB) (i32.mul (local.get $npad) (i32.const ${GEMM_KC * 4}))))
    (local.set $scratch (i32.add (local.get $pA) (i32.const ${GEMM_MC * GEMM_KC * 4})))
    (if (i32.or (i32.eqz (local.get $m)) (i32.eqz (local.get $n))) (then return))
    (if (i32.eqz (local.get $kk)) (then
      (loop $zero
        (memory.fill (local.get $c) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (local.set $m (i32.sub (local.get $m) (i32.const 1)))
        (br_if $zero (local.get $m)))
      return))
    (local.set $pc (i32.const 0))
    (loop $kblocks
      (local.set $kc (i32.sub (local.get $kk) (local.get $pc)))
      (if (i32.gt_u (local.get $kc) (i32.const ${GEMM_KC})) (then (local.set $kc (i32.const ${GEMM_KC}))))
      ${packBCall}
      (local.set $ic (i32.const 0))
      (loop $mblocks
        (local.set $mc (i32.sub (local.get $m) (local.get $ic)))
        (if (i32.gt_u (local.get $mc) (i32.const ${GEMM_MC})) (then (local.set $mc (i32.const ${GEMM_MC}))))
        (call $packA (i32.add (local.get $a) (i32.add (i32.mul (local.get $ic) (local.get $rsa)) (i32.mul (local.get $pc) (local.get $csa))))
          (local.get $rsa) (local.get $csa) (local.get $mc) (local.get $kc) (local.get $pA))
        (local.set $jr (i32.const 0))
        (loop $npanels
          (local.set $nv (i32.sub (local.get $n) (local.get $jr)))
          (if (i32.gt_u (local.get $nv) (i32.const ${GEMM_NR})) (then (local.set $nv (i32.const ${GEMM_NR}))))
          (local.set $ir (i32.const 0))
          (loop $mpanels
            (local.set $mv (i32.sub (local.get $mc) (local.get $ir)))
            (if (i32.gt_u (local.get $mv) (i32.const ${GEMM_MR})) (then (local.set $mv (i32.const ${GEMM_MR}))))
            (call $kernel
              (i32.add (local.get $pA) (i32.mul (local.get $ir) (i32.shl (local.get $kc) (i32.const 2))))
              (i32.add (local.get $pB) (i32.mul (local.get $jr) (i32.shl (local.get $kc) (i32.const 2))))
              (i32.add (local.get $c) (i32.add (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $ldc)) (i32.shl (local.get $jr) (i32.const 2))))
              (local.get $ldc) (local.get $kc) (local.get $mv) (local.get $nv) (local.get $scratch) (local.get $pc))
            (local.set $ir (i32.add (local.get $ir) (i32.const ${GEMM_MR})))
            (br_if $mpanels (i32.lt_u (local.get $ir) (local.get $mc))))
          (local.set $jr (i32.add (local.get $jr) (i32.const ${GEMM_NR})))
          (br_if $npanels (i32.lt_u (local.get $jr) (local.get $n))))
        (local.set $ic (i32.add (local.get $ic) (i32.const ${GEMM_MC})))
        (br_if $mblocks (i32.lt_u (local.get $ic) (local.get $m))))
      (local.set $pc (i32.add (local.get $pc) (i32.const ${GEMM_KC})))
      (br_if $kblocks (i32.lt_u (local.get $pc) (local.get $kk)))))`;
}

/**
 * Dequantizing B packers: B(k, j) = W[j][k] (weights stored [out=N][in=K]).
 * int8: W = q · scale[j]. int4: two nibbles per byte, low nibble first, row-major
 * [N][K/2]; W = (q − zero[j][g]) · scale[j][g] with g = k / groupSize.
 */
function packQuant(): string {
  return `
  (func $packBInt8 (param $q i32) (param $scales i32) (param $k0 i32) (param $kk i32) (param $kc i32) (param $n i32) (param $dst i32)
    (local $j0 i32) (local $k i32) (local $jj i32) (local $col i32)
    (local.set $j0 (i32.const 0))
    (loop $panels
      (local.set $k (i32.const 0))
      (loop $ks
        (local.set $jj (i32.const 0))
        (loop $cs
          (local.set $col (i32.add (local.get $j0) (local.get $jj)))
          (if (i32.lt_u (local.get $col) (local.get $n))
            (then (f32.store (local.get $dst) (f32.mul
              (f32.convert_i32_s (i32.load8_s (i32.add (local.get $q)
                (i32.add (i32.mul (local.get $col) (local.get $kk)) (i32.add (local.get $k0) (local.get $k))))))
              (f32.load (i32.add (local.get $scales) (i32.shl (local.get $col) (i32.const 2)))))))
            (else (f32.store (local.get $dst) (f32.const 0))))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
          (br_if $cs (i32.lt_u (local.get $jj) (i32.const ${GEMM_NR}))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $ks (i32.lt_u (local.get $k) (local.get $kc))))
      (local.set $j0 (i32.add (local.get $j0) (i32.const ${GEMM_NR})))
      (br_if $panels (i32.lt_u (local.get $j0) (local.get $n)))))

  (func $packBInt4 (param $q i32) (param $scales i32) (param $zeros i32) (param $group i32)
    (param $k0 i32) (param $kk i32) (param $kc i32) (param $n i32) (param $dst i32)
    (local $j0 i32) (local $k i32) (local $jj i32) (local $col i32) (local $kabs i32) (local $byte i32)
    (local $nib i32) (local $gidx i32) (local $groups i32)
    (local.set $groups (i32.div_u (local.get $kk) (local.get $group)))
    (local.set $j0 (i32.const 0))
    (loop $panels
      (local.set $k (i32.const 0))
      (loop $ks
        (local.set $kabs (i32.add (local.get $k0) (local.get $k)))
        (local.set $jj (i32.const 0))
        (loop $cs
          (local.set $col (i32.add (local.get $j0) (local.get $jj)))
          (if (i32.lt_u (local.get $col) (local.get $n))
            (then
              (local.set $byte (i32.load8_u (i32.add (local.get $q)
                (i32.add (i32.mul (local.get $col) (i32.shr_u (local.get $kk) (i32.const 1))) (i32.shr_u (local.get $kabs) (i32.const 1))))))
              (local.set $nib (i32.and (i32.shr_u (local.get $byte) (i32.shl (i32.and (local.get $kabs) (i32.const 1)) (i32.const 2))) (i32.const 15)))
              (local.set $gidx (i32.shl (i32.add (i32.mul (local.get $col) (local.get $groups))
                (i32.div_u (local.get $kabs) (local.get $group))) (i32.const 2)))
              (f32.store (local.get $dst) (f32.mul
                (f32.sub (f32.convert_i32_u (local.get $nib)) (f32.load (i32.add (local.get $zeros) (local.get $gidx))))
                (f32.load (i32.add (local.get $scales) (local.get $gidx))))))
            (else (f32.store (local.get $dst) (f32.const 0))))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
          (br_if $cs (i32.lt_u (local.get $jj) (i32.const ${GEMM_NR}))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $ks (i32.lt_u (local.get $k) (local.get $kc))))
      (local.set $j0 (i32.add (local.get $j0) (i32.const ${GEMM_NR})))
      (br_if $panels (i32.lt_u (local.get $j0) (local.get $n)))))`;
}

/**
 * All GEMM functions: `gemm`, `gemmInt8`, `gemmInt4` exports plus their helpers. With `fma`
 * the micro-kernel uses relaxed-SIMD fused multiply-add (one rounding per step instead of
 * two; V8 emits vfmadd on FMA3 hardware).
 */
export function gemmWat(options: { fma?: boolean } = {}): string {
  return [
    microKernel(options.fma ?? false),
    packA(),
    packB(),
    packQuant(),
    driver(
      'gemm',
      `(call $packB (i32.add (local.get $b) (i32.mul (local.get $pc) (local.get $rsb))) (local.get $rsb) (local.get $csb) (local.get $kc) (local.get $n) (local.get $pB))`,
      '(param $b i32) (param $rsb i32) (param $csb i32)',
    ),
    driver(
      'gemmInt8',
      `(call $packBInt8 (local.get $q) (local.get $scales) (local.get $pc) (local.get $kk) (local.get $kc) (local.get $n) (local.get $pB))`,
      '(param $q i32) (param $scales i32)',
    ),
    driver(
      'gemmInt4',
      `(call $packBInt4 (local.get $q) (local.get $scales) (local.get $zeros) (local.get $group) (local.get $pc) (local.get $kk) (local.get $kc) (local.get $n) (local.get $pB))`,
      '(param $q i32) (param $scales i32) (param $zeros i32) (param $group i32)',
    ),
  ].join('\n');
}
