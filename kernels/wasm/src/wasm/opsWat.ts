// WAT of the fused element-wise and row-reduction kernels (RMSNorm, SiLU·mul, RoPE,
// masked softmax, segment sum, row gather). Loops are generated: a 4-lane SIMD body over
// the bulk and a scalar body for the tail, so any length works.

let labelCounter = 0;

/** Byte address of element `$i` (or `index`) of the f32/i32 array at `ptr`. */
const at = (ptr: string, index = '(local.get $i)') => `(i32.add ${ptr} (i32.shl ${index} (i32.const 2)))`;
const get = (name: string) => `(local.get $${name})`;

/**
 * for (i = 0; i < count; i += 4) vec; then for (; i < count; i++) scalar. The loop index
 * is local `$i`; bodies address elements with `at(ptr)`.
 */
function forLanes(count: string, vec: string, scalar: string): string {
  const id = labelCounter++;
  return `
    (local.set $i (i32.const 0))
    (block $vd${id} (loop $vl${id}
      (br_if $vd${id} (i32.gt_u (i32.add (local.get $i) (i32.const 4)) ${count}))
      ${vec}
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vl${id})))
    (block $sd${id} (loop $sl${id}
      (br_if $sd${id} (i32.ge_u (local.get $i) ${count}))
      ${scalar}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $sl${id})))`;
}

/** for (name = 0; name < count; name++) body */
function forRange(name: string, count: string, body: string): string {
  const id = labelCounter++;
  return `
    (local.set $${name} (i32.const 0))
    (block $rd${id} (loop $rl${id}
      (br_if $rd${id} (i32.ge_u (local.get $${name}) ${count}))
      ${body}
      (local.set $${name} (i32.add (local.get $${name}) (i32.const 1)))
      (br $rl${id})))`;
}

const hsum = (v: string) =>
  `(f32.add (f32.add (f32x4.extract_lane 0 ${v}) (f32x4.extract_lane 1 ${v})) (f32.add (f32x4.extract_lane 2 ${v}) (f32x4.extract_lane 3 ${v})))`;
const splat = (x: string) => `(f32x4.splat ${x})`;
const vload = (addr: string) => `(v128.load ${addr})`;
const fload = (addr: string) => `(f32.load ${addr})`;

/**
 * exp over four lanes: 2^n · p(r) with n = round(x·log2 e), r = x − n·ln 2 (two-part
 * constant) and a degree-6 Taylor polynomial (|r| ≤ ln2/2 keeps the error near 1 ulp).
 * x is clamped to [-87.3, 88.3] so 2^n stays a normal float.
 */
function expFunctions(): string {
  const c = (v: number) => `(f32x4.splat (f32.const ${v}))`;
  return `
  (func $exp4 (param $x v128) (result v128) (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (f32x4.min (local.get $x) ${c(88.3)}) ${c(-87.3)}))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) ${c(Math.LOG2E)})))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) ${c(0.693145751953125)}))
      (f32x4.mul (local.get $n) ${c(1.428606765330187e-6)})))
    (local.set $p (f32x4.add (f32x4.mul (local.get $r) ${c(1 / 720)}) ${c(1 / 120)}))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) ${c(1 / 24)}))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) ${c(1 / 6)}))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) ${c(0.5)}))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) ${c(1)}))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) ${c(1)}))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))
  (func $exp1 (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $exp4 (f32x4.splat (local.get $x)))))
  (func $sigmoid4 (param $x v128) (result v128)
    (f32x4.div (f32x4.splat (f32.const 1)) (f32x4.add (f32x4.splat (f32.const 1)) (call $exp4 (f32x4.neg (local.get $x))))))
  (func $sigmoid1 (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $sigmoid4 (f32x4.splat (local.get $x)))))`;
}

/** y = x · rstd · w with rstd = 1/sqrt(mean(x²) + eps) per row; rstd is saved for backward. */
function rmsNorm(): string {
  const row = (p: string) => `(i32.add ${get(p)} (i32.mul ${get('r')} (i32.shl ${get('dim')} (i32.const 2))))`;
  return `
  (func (export "rmsNormForward") (param $x i32) (param $w i32) (param $y i32) (param $rstd i32)
    (param $rows i32) (param $dim i32) (param $eps f32)
    (local $r i32) (local $i i32) (local $xr i32) (local $yr i32) (local $acc v128) (local $ss f32) (local $s f32)
    ${forRange(
      'r',
      get('rows'),
      `
      (local.set $xr ${row('x')}) (local.set $yr ${row('y')})
      (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $ss (f32.const 0))
      ${forLanes(
        get('dim'),
        `(local.set $acc (f32x4.add (local.get $acc) (f32x4.mul ${vload(at(get('xr')))} ${vload(at(get('xr')))})))`,
        `(local.set $ss (f32.add (local.get $ss) (f32.mul ${fload(at(get('xr')))} ${fload(at(get('xr')))})))`,
      )}
      (local.set $s (f32.div (f32.const 1) (f32.sqrt (f32.add (local.get $eps)
        (f32.div (f32.add (local.get $ss) ${hsum(get('acc'))}) (f32.convert_i32_u ${get('dim')}))))))
      (f32.store ${at(get('rstd'), get('r'))} (local.get $s))
      ${forLanes(
        get('dim'),
        `(v128.store ${at(get('yr'))} (f32x4.mul (f32x4.mul ${vload(at(get('xr')))} ${splat(get('s'))}) ${vload(at(get('w')))}))`,
        `(f32.store ${at(get('yr'))} (f32.mul (f32.mul ${fload(at(get('xr')))} (local.get $s)) ${fload(at(get('w')))}))`,
      )}`,
    )})

  (func (export "rmsNormBackward") (param $x i32) (param $w i32) (param $rstd i32) (param $dy i32)
    (param $dx i32) (param $dw i32) (param $rows i32) (param $dim i32)
    (local $r i32) (local $i i32) (local $xr i32) (local $dyr i32) (local $dxr i32) (local $acc v128)
    (local $dot f32) (local $s f32) (local $c f32)
    (memory.fill (local.get $dw) (i32.const 0) (i32.shl (local.get $dim) (i32.const 2)))
    ${forRange(
      'r',
      get('rows'),
      `
      (local.set $xr ${row('x')}) (local.set $dyr ${row('dy')}) (local.set $dxr ${row('dx')})
      (local.set $s ${fload(at(get('rstd'), get('r')))})
      (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $dot (f32.const 0))
      ${forLanes(
        get('dim'),
        `(local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.mul ${vload(at(get('dyr')))} ${vload(at(get('w')))}) ${vload(at(get('xr')))})))`,
        `(local.set $dot (f32.add (local.get $dot) (f32.mul (f32.mul ${fload(at(get('dyr')))} ${fload(at(get('w')))}) ${fload(at(get('xr')))})))`,
      )}
      (local.set $c (f32.div (f32.mul (f32.add (local.get $dot) ${hsum(get('acc'))}) (f32.mul (local.get $s) (f32.mul (local.get $s) (local.get $s))))
        (f32.convert_i32_u ${get('dim')})))
      ${forLanes(
        get('dim'),
        `(v128.store ${at(get('dxr'))} (f32x4.sub (f32x4.mul (f32x4.mul ${vload(at(get('dyr')))} ${vload(at(get('w')))}) ${splat(get('s'))})
          (f32x4.mul ${vload(at(get('xr')))} ${splat(get('c'))})))
        (v128.store ${at(get('dw'))} (f32x4.add ${vload(at(get('dw')))} (f32x4.mul (f32x4.mul ${vload(at(get('dyr')))} ${vload(at(get('xr')))}) ${splat(get('s'))})))`,
        `(f32.store ${at(get('dxr'))} (f32.sub (f32.mul (f32.mul ${fload(at(get('dyr')))} ${fload(at(get('w')))}) (local.get $s))
          (f32.mul ${fload(at(get('xr')))} (local.get $c))))
        (f32.store ${at(get('dw'))} (f32.add ${fload(at(get('dw')))} (f32.mul (f32.mul ${fload(at(get('dyr')))} ${fload(at(get('xr')))}) (local.get $s))))`,
      )}`,
    )})`;
}

/** SwiGLU's gate: y = silu(g) · u, and its gradients. */
function siluMul(): string {
  return `
  (func (export "siluMulForward") (param $g i32) (param $u i32) (param $y i32) (param $n i32) (local $i i32) (local $gv v128) (local $gs f32)
    ${forLanes(
      get('n'),
      `(local.set $gv ${vload(at(get('g')))})
      (v128.store ${at(get('y'))} (f32x4.mul (f32x4.mul (local.get $gv) (call $sigmoid4 (local.get $gv))) ${vload(at(get('u')))}))`,
      `(local.set $gs ${fload(at(get('g')))})
      (f32.store ${at(get('y'))} (f32.mul (f32.mul (local.get $gs) (call $sigmoid1 (local.get $gs))) ${fload(at(get('u')))}))`,
    )})

  (func (export "siluMulBackward") (param $g i32) (param $u i32) (param $dy i32) (param $dg i32) (param $du i32) (param $n i32)
    (local $i i32) (local $gv v128) (local $sv v128) (local $dv v128) (local $gs f32) (local $ss f32) (local $ds f32)
    ${forLanes(
      get('n'),
      `(local.set $gv ${vload(at(get('g')))}) (local.set $sv (call $sigmoid4 (local.get $gv))) (local.set $dv ${vload(at(get('dy')))})
      (v128.store ${at(get('du'))} (f32x4.mul (local.get $dv) (f32x4.mul (local.get $gv) (local.get $sv))))
      (v128.store ${at(get('dg'))} (f32x4.mul (f32x4.mul (local.get $dv) ${vload(at(get('u')))})
        (f32x4.mul (local.get $sv) (f32x4.add (f32x4.splat (f32.const 1))
          (f32x4.mul (local.get $gv) (f32x4.sub (f32x4.splat (f32.const 1)) (local.get $sv)))))))`,
      `(local.set $gs ${fload(at(get('g')))}) (local.set $ss (call $sigmoid1 (local.get $gs))) (local.set $ds ${fload(at(get('dy')))})
      (f32.store ${at(get('du'))} (f32.mul (local.get $ds) (f32.mul (local.get $gs) (local.get $ss))))
      (f32.store ${at(get('dg'))} (f32.mul (f32.mul (local.get $ds) ${fload(at(get('u')))})
        (f32.mul (local.get $ss) (f32.add (f32.const 1) (f32.mul (local.get $gs) (f32.sub (f32.const 1) (local.get $ss)))))))`,
    )})`;
}

/**
 * Rotate-half RoPE on x[batch, seq, heads, dim] with cos/sin[seq, dim/2]:
 * y1 = x1·c − sign·x2·s, y2 = x2·c + sign·x1·s (sign −1 applies the inverse rotation,
 * which is the gradient).
 */
function rope(): string {
  const lo = (p: string) => at(get(p));
  const hi = (p: string) => `(i32.add ${at(get(p))} (i32.shl ${get('half')} (i32.const 2)))`;
  return `
  (func (export "rope") (param $x i32) (param $cos i32) (param $sin i32) (param $y i32)
    (param $batch i32) (param $seq i32) (param $heads i32) (param $dim i32) (param $sign f32)
    (local $b i32) (local $t i32) (local $h i32) (local $i i32) (local $half i32) (local $off i32)
    (local $xr i32) (local $yr i32) (local $cr i32) (local $sr i32) (local $sg v128)
    (local.set $half (i32.shr_u ${get('dim')} (i32.const 1)))
    (local.set $sg (f32x4.splat (local.get $sign)))
    ${forRange(
      'b',
      get('batch'),
      forRange(
        't',
        get('seq'),
        `(local.set $cr (i32.add ${get('cos')} (i32.shl (i32.mul ${get('t')} ${get('half')}) (i32.const 2))))
        (local.set $sr (i32.add ${get('sin')} (i32.shl (i32.mul ${get('t')} ${get('half')}) (i32.const 2))))
        ${forRange(
          'h',
          get('heads'),
          `(local.set $off (i32.shl (i32.mul (i32.add (i32.mul (i32.add (i32.mul ${get('b')} ${get('seq')}) ${get('t')}) ${get('heads')}) ${get('h')}) ${get('dim')}) (i32.const 2)))
          (local.set $xr (i32.add ${get('x')} (local.get $off))) (local.set $yr (i32.add ${get('y')} (local.get $off)))
          ${forLanes(
            get('half'),
            `(v128.store ${lo('yr')} (f32x4.sub (f32x4.mul ${vload(lo('xr'))} ${vload(at(get('cr')))})
              (f32x4.mul (local.get $sg) (f32x4.mul ${vload(hi('xr'))} ${vload(at(get('sr')))}))))
            (v128.store ${hi('yr')} (f32x4.add (f32x4.mul ${vload(hi('xr'))} ${vload(at(get('cr')))})
              (f32x4.mul (local.get $sg) (f32x4.mul ${vload(lo('xr'))} ${vload(at(get('sr')))}))))`,
            `(f32.store ${lo('yr')} (f32.sub (f32.mul ${fload(lo('xr'))} ${fload(at(get('cr')))})
              (f32.mul (local.get $sign) (f32.mul ${fload(hi('xr'))} ${fload(at(get('sr')))}))))
            (f32.store ${hi('yr')} (f32.add (f32.mul ${fload(hi('xr'))} ${fload(at(get('cr')))})
              (f32.mul (local.get $sign) (f32.mul ${fload(lo('xr'))} ${fload(at(get('sr')))}))))`,
          )}`,
        )}`,
      ),
    )})`;
}

/**
 * Row softmax of s·scale in place (row stride `ld` bytes). With `causal`, row r keeps
 * columns j ≤ r + cols − rows and the rest become exactly 0.
 * softmaxBackward: dp ← p ⊙ (dp − Σ dp⊙p) · scale, in place on dp.
 */
function softmax(): string {
  return `
  (func (export "softmaxRows") (param $s i32) (param $rows i32) (param $cols i32) (param $ld i32) (param $scale f32) (param $causal i32)
    (local $r i32) (local $i i32) (local $p i32) (local $len i32) (local $mx v128) (local $m f32) (local $acc v128) (local $sum f32) (local $e v128) (local $es f32)
    ${forRange(
      'r',
      get('rows'),
      `(local.set $p (i32.add ${get('s')} (i32.mul ${get('r')} ${get('ld')})))
      (local.set $len ${get('cols')})
      (if ${get('causal')} (then
        (local.set $len (i32.add (i32.add ${get('r')} (i32.const 1)) (i32.sub ${get('cols')} ${get('rows')})))
        (if (i32.gt_s (local.get $len) ${get('cols')}) (then (local.set $len ${get('cols')})))
        (if (i32.lt_s (local.get $len) (i32.const 0)) (then (local.set $len (i32.const 0))))))
      (local.set $mx (f32x4.splat (f32.const -inf))) (local.set $m (f32.const -inf))
      ${forLanes(
        get('len'),
        `(local.set $mx (f32x4.max (local.get $mx) ${vload(at(get('p')))}))`,
        `(local.set $m (f32.max (local.get $m) ${fload(at(get('p')))}))`,
      )}
      (local.set $m (f32.mul (local.get $scale) (f32.max (f32.max (local.get $m) (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx))))
        (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx))))))
      (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $sum (f32.const 0))
      ${forLanes(
        get('len'),
        `(local.set $e (call $exp4 (f32x4.sub (f32x4.mul ${vload(at(get('p')))} ${splat(get('scale'))}) ${splat(get('m'))})))
        (v128.store ${at(get('p'))} (local.get $e)) (local.set $acc (f32x4.add (local.get $acc) (local.get $e)))`,
        `(local.set $es (call $exp1 (f32.sub (f32.mul ${fload(at(get('p')))} (local.get $scale)) (local.get $m))))
        (f32.store ${at(get('p'))} (local.get $es)) (local.set $sum (f32.add (local.get $sum) (local.get $es)))`,
      )}
      (local.set $sum (f32.div (f32.const 1) (f32.add (local.get $sum) ${hsum(get('acc'))})))
      ${forLanes(
        get('len'),
        `(v128.store ${at(get('p'))} (f32x4.mul ${vload(at(get('p')))} ${splat(get('sum'))}))`,
        `(f32.store ${at(get('p'))} (f32.mul ${fload(at(get('p')))} (local.get $sum)))`,
      )}
      (if (i32.lt_s (local.get $len) ${get('cols')}) (then
        (memory.fill ${at(get('p'), get('len'))} (i32.const 0) (i32.shl (i32.sub ${get('cols')} (local.get $len)) (i32.const 2)))))`,
    )})

  (func (export "softmaxBackward") (param $p i32) (param $dp i32) (param $rows i32) (param $cols i32) (param $ld i32) (param $scale f32)
    (local $r i32) (local $i i32) (local $pr i32) (local $dr i32) (local $acc v128) (local $dot f32)
    ${forRange(
      'r',
      get('rows'),
      `(local.set $pr (i32.add ${get('p')} (i32.mul ${get('r')} ${get('ld')})))
      (local.set $dr (i32.add ${get('dp')} (i32.mul ${get('r')} ${get('ld')})))
      (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $dot (f32.const 0))
      ${forLanes(
        get('cols'),
        `(local.set $acc (f32x4.add (local.get $acc) (f32x4.mul ${vload(at(get('pr')))} ${vload(at(get('dr')))})))`,
        `(local.set $dot (f32.add (local.get $dot) (f32.mul ${fload(at(get('pr')))} ${fload(at(get('dr')))})))`,
      )}
      (local.set $dot (f32.add (local.get $dot) ${hsum(get('acc'))}))
      ${forLanes(
        get('cols'),
        `(v128.store ${at(get('dr'))} (f32x4.mul (f32x4.mul ${vload(at(get('pr')))} (f32x4.sub ${vload(at(get('dr')))} ${splat(get('dot'))})) ${splat(get('scale'))}))`,
        `(f32.store ${at(get('dr'))} (f32.mul (f32.mul ${fload(at(get('pr')))} (f32.sub ${fload(at(get('dr')))} (local.get $dot))) (local.get $scale)))`,
      )}`,
    )})`;
}

/**
 * segmentSum: out[s] = Σ_{r: ids[r] = s} x[r] (rows of `inner` floats; out-of-range ids are
 * dropped as TF does). gatherRows: out[i] = x[ids[i]] (ids are bounds-checked in JS).
 */
function segments(): string {
  return `
  (func (export "segmentSum") (param $x i32) (param $ids i32) (param $out i32) (param $rows i32) (param $inner i32) (param $segs i32)
    (local $r i32) (local $i i32) (local $seg i32) (local $xr i32) (local $or i32) (local $bytes i32)
    (local.set $bytes (i32.shl ${get('inner')} (i32.const 2)))
    (memory.fill ${get('out')} (i32.const 0) (i32.mul ${get('segs')} (local.get $bytes)))
    ${forRange(
      'r',
      get('rows'),
      `(local.set $seg (i32.load ${at(get('ids'), get('r'))}))
      (if (i32.lt_u (local.get $seg) ${get('segs')}) (then
        (local.set $xr (i32.add ${get('x')} (i32.mul ${get('r')} (local.get $bytes))))
        (local.set $or (i32.add ${get('out')} (i32.mul (local.get $seg) (local.get $bytes))))
        ${forLanes(
          get('inner'),
          `(v128.store ${at(get('or'))} (f32x4.add ${vload(at(get('or')))} ${vload(at(get('xr')))}))`,
          `(f32.store ${at(get('or'))} (f32.add ${fload(at(get('or')))} ${fload(at(get('xr')))}))`,
        )}))`,
    )})

  (func (export "gatherRows") (param $x i32) (param $ids i32) (param $out i32) (param $n i32) (param $inner i32)
    (local $r i32) (local $bytes i32)
    (local.set $bytes (i32.shl ${get('inner')} (i32.const 2)))
    ${forRange(
      'r',
      get('n'),
      `(memory.copy (i32.add ${get('out')} (i32.mul ${get('r')} (local.get $bytes)))
        (i32.add ${get('x')} (i32.mul (i32.load ${at(get('ids'), get('r'))}) (local.get $bytes))) (local.get $bytes))`,
    )})`;
}

/** scaleCopy: dst = src · factor (n floats). */
function scaleCopy(): string {
  return `
  (func (export "scaleCopy") (param $src i32) (param $dst i32) (param $n i32) (param $factor f32) (local $i i32)
    ${forLanes(
      get('n'),
      `(v128.store ${at(get('dst'))} (f32x4.mul ${vload(at(get('src')))} ${splat(get('factor'))}))`,
      `(f32.store ${at(get('dst'))} (f32.mul ${fload(at(get('src')))} (local.get $factor)))`,
    )})`;
}

/**
 * adamStep: m' = b1·m + (1−b1)·g, v' = b2·v + (1−b2)·g², w' = w − lr·(m'·c1)/(sqrt(v'·c2) + eps)
 * with c1 = 1/(1−b1^t), c2 = 1/(1−b2^t) (tfjs' Adam formula), into fresh outputs.
 */
function adam(): string {
  const v4 = (name: string) => `(f32x4.splat (local.get $${name}))`;
  const next = (k: string) =>
    k === 'vec'
      ? {
          m: `(f32x4.add (f32x4.mul ${vload(at(get('m')))} ${v4('b1')}) (f32x4.mul ${vload(at(get('g')))} ${v4('a1')}))`,
          v: `(f32x4.add (f32x4.mul ${vload(at(get('v')))} ${v4('b2')}) (f32x4.mul (f32x4.mul ${vload(at(get('g')))} ${vload(at(get('g')))}) ${v4('a2')}))`,
        }
      : {
          m: `(f32.add (f32.mul ${fload(at(get('m')))} (local.get $b1)) (f32.mul ${fload(at(get('g')))} (local.get $a1)))`,
          v: `(f32.add (f32.mul ${fload(at(get('v')))} (local.get $b2)) (f32.mul (f32.mul ${fload(at(get('g')))} ${fload(at(get('g')))}) (local.get $a2)))`,
        };
  const vec = next('vec');
  const sca = next('scalar');
  return `
  (func (export "adamStep") (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $ow i32) (param $om i32) (param $ov i32)
    (param $n i32) (param $lr f32) (param $b1 f32) (param $b2 f32) (param $eps f32) (param $c1 f32) (param $c2 f32)
    (local $i i32) (local $a1 f32) (local $a2 f32) (local $mv v128) (local $vv v128) (local $ms f32) (local $vs f32)
    (local.set $a1 (f32.sub (f32.const 1) (local.get $b1)))
    (local.set $a2 (f32.sub (f32.const 1) (local.get $b2)))
    ${forLanes(
      get('n'),
      `(local.set $mv ${vec.m}) (local.set $vv ${vec.v})
      (v128.store ${at(get('om'))} (local.get $mv)) (v128.store ${at(get('ov'))} (local.get $vv))
      (v128.store ${at(get('ow'))} (f32x4.sub ${vload(at(get('w')))} (f32x4.div (f32x4.mul ${v4('lr')} (f32x4.mul (local.get $mv) ${v4('c1')}))
        (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vv) ${v4('c2')})) ${v4('eps')}))))`,
      `(local.set $ms ${sca.m}) (local.set $vs ${sca.v})
      (f32.store ${at(get('om'))} (local.get $ms)) (f32.store ${at(get('ov'))} (local.get $vs))
      (f32.store ${at(get('ow'))} (f32.sub ${fload(at(get('w')))} (f32.div (f32.mul (local.get $lr) (f32.mul (local.get $ms) (local.get $c1)))
        (f32.add (f32.sqrt (f32.mul (local.get $vs) (local.get $c2))) (local.get $eps)))))`,
    )})`;
}

/** WAT of every fused kernel export. */
export function opsWat(): string {
  labelCounter = 0;
  return [expFunctions(), rmsNorm(), siluMul(), rope(), softmax(), segments(), scaleCopy(), adam()].join('\n');
}
