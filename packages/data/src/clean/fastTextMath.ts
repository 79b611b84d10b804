// Float32 maths exactly as fastText's WebAssembly build computes it, so our scores match its
// bit for bit. That build links musl, whose expf evaluates a 32-entry 2^(i/32) table and a cubic
// in double precision and rounds once to float; Math.exp rounded to float disagrees with it in
// about one case in a few hundred, so we evaluate the same algorithm here.

const TABLE_BITS = 5;
const N = 1 << TABLE_BITS;

/** 2^(i/32) for i in 0..31, given as the high/low words of their IEEE-754 doubles. */
const POW2_FRACTION_BITS: ReadonlyArray<readonly [number, number]> = [
  [0x3ff00000, 0x00000000],
  [0x3ff059b0, 0xd3158574],
  [0x3ff0b558, 0x6cf9890f],
  [0x3ff11301, 0xd0125b51],
  [0x3ff172b8, 0x3c7d517b],
  [0x3ff1d487, 0x3168b9aa],
  [0x3ff2387a, 0x6e756238],
  [0x3ff29e9d, 0xf51fdee1],
  [0x3ff306fe, 0x0a31b715],
  [0x3ff371a7, 0x373aa9cb],
  [0x3ff3dea6, 0x4c123422],
  [0x3ff44e08, 0x6061892d],
  [0x3ff4bfda, 0xd5362a27],
  [0x3ff5342b, 0x569d4f82],
  [0x3ff5ab07, 0xdd485429],
  [0x3ff6247e, 0xb03a5585],
  [0x3ff6a09e, 0x667f3bcd],
  [0x3ff71f75, 0xe8ec5f74],
  [0x3ff7a114, 0x73eb0187],
  [0x3ff82589, 0x994cce13],
  [0x3ff8ace5, 0x422aa0db],
  [0x3ff93737, 0xb0cdc5e5],
  [0x3ff9c491, 0x82a3f090],
  [0x3ffa5503, 0xb23e255d],
  [0x3ffae89f, 0x995ad3ad],
  [0x3ffb7f76, 0xf2fb5e47],
  [0x3ffc199b, 0xdd85529c],
  [0x3ffcb720, 0xdcef9069],
  [0x3ffd5818, 0xdcfba487],
  [0x3ffdfc97, 0x337b9b5f],
  [0x3ffea4af, 0xa2a490da],
  [0x3fff5076, 0x5b6e4540],
];

const POW2_FRACTION = (() => {
  const view = new DataView(new ArrayBuffer(8));
  return Float64Array.from(POW2_FRACTION_BITS, ([hi, lo]) => {
    view.setUint32(0, hi);
    view.setUint32(4, lo);
    return view.getFloat64(0);
  });
})();

/** 2^e for the integer exponents expf needs (-150..128), exact. */
const POW2_INT = Float64Array.from({ length: 280 }, (_, i) => 2 ** (i - 152));

const INV_LN2_N = (0x171547652b82fe / 2 ** 52) * N;
const SHIFT = 1.5 * 2 ** 52;
const C0 = 0x1c6af84b912394 / 2 ** 52 / 2 ** 5 / (N * N * N);
const C1 = 0x1ebfce50fac4f3 / 2 ** 52 / 2 ** 3 / (N * N);
const C2 = 0x162e42ff0c52d6 / 2 ** 52 / 2 ** 1 / N;
const OVERFLOW = Math.fround(88.72283172607422);
const UNDERFLOW = Math.fround(-103.97207641601562);

/** Single-precision e^x (the float argument and result as JS numbers), musl's algorithm. */
export function expf(x: number): number {
  if (!(Math.abs(x) < 88)) {
    if (x === Number.NEGATIVE_INFINITY) return 0;
    if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x + x;
    if (x > OVERFLOW) return Number.POSITIVE_INFINITY;
    if (x < UNDERFLOW) return 0;
  }
  const z = INV_LN2_N * x;
  const kd = z + SHIFT - SHIFT;
  const r = z - kd;
  const k = kd | 0;
  const s = POW2_FRACTION[k & (N - 1)]! * POW2_INT[(k >> TABLE_BITS) + 152]!;
  const p = C0 * r + C1;
  const r2 = r * r;
  let y = C2 * r + 1;
  y = p * r2 + y;
  return Math.fround(y * s);
}

/** fastText's `std_log`: log(x + 1e-5) in double, returned as float. */
export function stdLog(x: number): number {
  return Math.fround(Math.log(x + 1e-5));
}
