// Text kernels for @deepline/data's cleaning chain: the whitespace word scan, the dedup word
// hashes, the Gopher repetition n-gram statistics and MinHash signatures. Each one computes exactly what the
// JavaScript version in @deepline/data does (same hashes, same counts, same tie-breaking), so
// results never depend on whether this addon is loaded; they only get there faster and
// without JIT warm-up in every thread.
#define NAPI_VERSION 8
#include <node_api.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "napi_util.h"
#include "text.h"

namespace deepline::text {
namespace {

constexpr std::uint32_t kFnvOffset = 0x811c9dc5u;
constexpr std::uint32_t kFnvPrime = 0x01000193u;
// Polynomial bases of the two n-gram hashes (as the JavaScript: 64 bits of key in all).
constexpr std::uint32_t kBaseA = 0x01000193u;
constexpr std::uint32_t kBaseB = 0x5bd1e995u;

// Kind bits of a word, as @deepline/data's wordScan.
constexpr std::uint8_t kAlnum = 1;
constexpr std::uint8_t kLetter = 2;
constexpr std::uint8_t kNonAscii = 4;
constexpr std::uint8_t kControl = 8;
constexpr std::uint8_t kInWord = 16;

std::uint32_t fmix32(std::uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// JavaScript's \s restricted to Latin-1.
bool is_whitespace(unsigned c) {
  return (c >= 9 && c <= 13) || c == 32 || c == 0xa0;
}

struct KindTable {
  std::uint8_t bits[256];
  KindTable() {
    for (unsigned c = 0; c < 256; ++c) {
      if (is_whitespace(c)) {
        bits[c] = 0;
      } else if (c >= 128) {
        bits[c] = kInWord | kNonAscii;
      } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
        bits[c] = kInWord | kAlnum | kLetter;
      } else if (c >= '0' && c <= '9') {
        bits[c] = kInWord | kAlnum;
      } else if (c < 32 || c == 127) {
        bits[c] = kInWord | kControl;
      } else {
        bits[c] = kInWord;
      }
    }
  }
};
const KindTable kKinds;

}  // namespace

std::size_t scan_words_latin1(const std::uint8_t* codes, std::size_t length, std::uint32_t* starts,
                              std::uint32_t* lengths, std::uint32_t* hashes, std::uint8_t* kinds) {
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < length) {
    while (i < length && kKinds.bits[codes[i]] == 0) ++i;
    if (i >= length) break;
    const std::size_t start = i;
    std::uint32_t h = kFnvOffset;
    std::uint8_t kind = 0;
    for (; i < length; ++i) {
      const std::uint8_t c = codes[i];
      const std::uint8_t bits = kKinds.bits[c];
      if (bits == 0) break;
      h = (h ^ c) * kFnvPrime;
      kind |= bits;
    }
    starts[n] = static_cast<std::uint32_t>(start);
    lengths[n] = static_cast<std::uint32_t>(i - start);
    hashes[n] = fmix32(h);
    kinds[n] = static_cast<std::uint8_t>(kind & ~kInWord);
    ++n;
  }
  return n;
}

std::size_t dedup_hashes_latin1(const std::uint8_t* codes, std::size_t length, std::uint32_t* out,
                                const std::uint16_t* folded, const std::uint8_t* classes) {
  std::size_t n = 0;
  std::uint32_t h = kFnvOffset;
  int state = 0;  // 0 between words, 1 in a word, 2 in a run of digits
  for (std::size_t i = 0; i < length; ++i) {
    const std::uint8_t b = codes[i];
    const std::uint8_t cls = classes[b];
    if (cls == 1) {
      h = (h ^ folded[b]) * kFnvPrime;
      state = 1;
    } else if (cls == 2) {
      if (state != 2) h = (h ^ 48u) * kFnvPrime;
      state = 2;
    } else {
      if (state != 0) out[n++] = fmix32(h);
      h = kFnvOffset;
      state = 0;
    }
  }
  if (state != 0) out[n++] = fmix32(h);
  return n;
}

// Function-major minima; cloned for AVX2 (eight 32-bit lanes with pmulld/pminsd) and for
// baseline x86-64, picked at load time.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)  // ifunc-based: ELF only
__attribute__((target_clones("avx2", "default")))
#endif
void minhash_minima(const std::uint32_t* xs, std::size_t shingles, const std::int32_t* mul_a,
                    const std::int32_t* xor_b, std::size_t k, std::int32_t* signature) {
  for (std::size_t f = 0; f < k; ++f) {
    const std::uint32_t a = static_cast<std::uint32_t>(mul_a[f]);
    const std::uint32_t b = static_cast<std::uint32_t>(xor_b[f]);
    std::int32_t m = 0x7fffffff;
    for (std::size_t s = 0; s < shingles; ++s) {
      std::uint32_t y = (xs[s] ^ b) * a;
      y ^= y >> 16;
      const std::int32_t v = static_cast<std::int32_t>(y);
      m = v < m ? v : m;
    }
    signature[f] = m;
  }
}

void minhash_signature(const std::uint32_t* words, std::size_t count, std::size_t ngram, const std::int32_t* mul_a,
                       const std::int32_t* xor_b, std::size_t k, std::int32_t* signature) {
  const std::size_t shingles = count >= ngram ? count - ngram + 1 : 1;
  const std::size_t width = std::min(ngram, count);
  thread_local std::vector<std::uint32_t> xs;
  xs.resize(shingles);
  for (std::size_t s = 0; s < shingles; ++s) {
    std::uint32_t h = 0x27d4eb2fu;
    for (std::size_t j = 0; j < width; ++j) h = (h ^ words[s + j]) * kFnvPrime + static_cast<std::uint32_t>(j);
    xs[s] = fmix32(h);
  }
  minhash_minima(xs.data(), shingles, mul_a, xor_b, k, signature);
}

namespace {

bool is_js_whitespace(std::uint8_t c) { return (c >= 9 && c <= 13) || c == 32 || c == 0xa0; }

/** An exact set of byte ranges of one text: 64-bit hashes, contents compared on a hash match. */
class PieceSet {
 public:
  void reset(const std::uint8_t* text, std::size_t pieces) {
    text_ = text;
    std::size_t cap = 16;
    while (cap < pieces * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  /** Adds [start, start + length); returns false when an equal piece was added before. */
  bool insert(std::size_t start, std::size_t length) {
    // Eight bytes per step (contents are compared on a match, so this only has to spread well).
    const std::uint8_t* p = text_ + start;
    std::uint64_t h = 0xcbf29ce484222325ull ^ length;
    std::size_t i = 0;
    for (; i + 8 <= length; i += 8) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p + i, 8);
      h = (h ^ chunk) * 0x9e3779b97f4a7c15ull;
      h ^= h >> 29;
    }
    if (i < length) {
      std::uint64_t tail = 0;
      std::memcpy(&tail, p + i, length - i);
      h = (h ^ tail) * 0x9e3779b97f4a7c15ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (!slot.used) {
        slot = Slot{h, start, length, true};
        return true;
      }
      if (slot.hash == h && slot.length == length && std::memcmp(text_ + slot.start, text_ + start, length) == 0)
        return false;
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::size_t start = 0, length = 0;
    bool used = false;
  };
  const std::uint8_t* text_ = nullptr;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace

void duplicate_pieces_latin1(const std::uint8_t* codes, std::size_t length, bool trim, int min_newlines,
                             double* out) {
  std::size_t begin = 0, end = length;
  if (trim) {
    while (begin < end && is_js_whitespace(codes[begin])) ++begin;
    while (end > begin && is_js_whitespace(codes[end - 1])) --end;
  }
  // Pieces: split at runs of at least min_newlines newlines (as split(/\n{k,}/)).
  std::size_t most = 1;
  for (const std::uint8_t* q = codes + begin; (q = static_cast<const std::uint8_t*>(std::memchr(q, '\n', codes + end - q))) != nullptr; ++q)
    ++most;
  thread_local PieceSet seen;
  seen.reset(codes, most);
  double pieces = 0, elements = 0, chars = 0;
  std::size_t pos = begin;
  for (;;) {
    std::size_t at = pos;
    for (;;) {
      const void* hit = at < end ? std::memchr(codes + at, '\n', end - at) : nullptr;
      at = hit ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - codes) : end;
      if (at >= end || min_newlines == 1) break;
      if (at + 1 < end && codes[at + 1] == '\n') break;
      ++at;  // a lone newline inside a paragraph
    }
    const bool last = at >= end;
    const std::size_t piece_end = last ? end : at;
    ++pieces;
    if (!seen.insert(pos, piece_end - pos)) {
      ++elements;
      chars += static_cast<double>(piece_end - pos);
    }
    if (last) break;
    pos = at + static_cast<std::size_t>(min_newlines);
    while (pos < end && codes[pos] == '\n') ++pos;
  }
  out[0] = pieces;
  out[1] = elements;
  out[2] = chars;
}

namespace {

/** hash(i, n) = P[i + n] − P[i]·Bⁿ (mod 2³²), for both bases. */
struct Prefix {
  std::vector<std::uint32_t> pa, pb, pow_a, pow_b;
  void prepare(const std::uint32_t* hashes, std::size_t words, int max_n) {
    pa.assign(words + 1, 0);
    pb.assign(words + 1, 0);
    for (std::size_t i = 0; i < words; ++i) {
      pa[i + 1] = pa[i] * kBaseA + hashes[i];
      pb[i + 1] = pb[i] * kBaseB + (hashes[i] ^ 0x5555u);
    }
    pow_a.assign(static_cast<std::size_t>(max_n) + 1, 1);
    pow_b.assign(static_cast<std::size_t>(max_n) + 1, 1);
    for (int k = 1; k <= max_n; ++k) {
      pow_a[k] = pow_a[k - 1] * kBaseA;
      pow_b[k] = pow_b[k - 1] * kBaseB;
    }
  }
  std::uint32_t a(std::size_t i, int n) const { return pa[i + n] - pa[i] * pow_a[n]; }
  std::uint32_t b(std::size_t i, int n) const { return pb[i + n] - pb[i] * pow_b[n]; }
};

/** Open addressing on the key pair (a, b): count and first position per key. */
class NgramTable {
 public:
  void reset(std::size_t keys) {
    std::size_t cap = 16;
    while (cap < keys * 2) cap <<= 1;
    slots_.assign(cap * 4, 0);
    mask_ = cap - 1;
  }
  /** Adds one occurrence at `position`; returns the slot. */
  std::size_t add(std::uint32_t a, std::uint32_t b, std::uint32_t position) {
    std::size_t i = (a ^ (b * 0x9e3779b1u)) & mask_;
    for (;;) {
      std::uint32_t* s = &slots_[i * 4];
      if (s[2] == 0) {
        s[0] = a;
        s[1] = b;
        s[2] = 1;
        s[3] = position;
        return i;
      }
      if (s[0] == a && s[1] == b) {
        ++s[2];
        return i;
      }
      i = (i + 1) & mask_;
    }
  }
  std::uint32_t count_at(std::size_t slot) const { return slots_[slot * 4 + 2]; }
  std::uint32_t first_at(std::size_t slot) const { return slots_[slot * 4 + 3]; }

 private:
  std::vector<std::uint32_t> slots_;
  std::size_t mask_ = 0;
};

struct PassResult {
  std::size_t count = 0;
  std::size_t best_start = 0;
  std::uint32_t best_count = 0;
  std::size_t flagged = 0;
};

/**
 * Counts the n-grams starting at the flagged `candidates` (all when null) and flags in `flags`
 * the positions whose n-gram occurs more than once; the most frequent n-gram is the first to
 * reach the top count (position 0 when none repeats). A one-byte-per-bucket saturating sketch
 * lets only positions in shared buckets reach the exact table.
 */
PassResult count_pass(const Prefix& prefix, std::size_t words, int n, const std::uint8_t* candidates,
                      std::size_t visits, std::uint8_t* flags, std::vector<std::uint8_t>& sketch, NgramTable& table) {
  PassResult r;
  r.count = words + 1 > static_cast<std::size_t>(n) ? words - n + 1 : 0;
  std::fill(flags, flags + r.count, 0);
  const std::size_t visited = candidates ? visits : r.count;
  int bits = 10;
  while (bits < 16 && (std::size_t{1} << bits) < visited * 8) ++bits;
  const std::uint32_t bucket_mask = (1u << bits) - 1;
  std::fill(sketch.begin(), sketch.begin() + (std::size_t{1} << bits), 0);
  std::size_t shared = 0;
  for (std::size_t i = 0; i < r.count; ++i) {
    if (candidates && candidates[i] == 0) continue;
    const std::uint32_t a = prefix.a(i, n);
    const std::uint32_t k = (a ^ (a >> 16)) & bucket_mask;
    const std::uint8_t c = sketch[k];
    if (c == 0) {
      sketch[k] = 1;
    } else if (c == 1) {
      sketch[k] = 2;
      shared += 2;
    } else {
      ++shared;
    }
  }
  if (shared > 0) {
    table.reset(shared);
    for (std::size_t i = 0; i < r.count; ++i) {
      if (candidates && candidates[i] == 0) continue;
      const std::uint32_t a = prefix.a(i, n);
      if (sketch[(a ^ (a >> 16)) & bucket_mask] != 2) continue;
      const std::size_t slot = table.add(a, prefix.b(i, n), static_cast<std::uint32_t>(i));
      const std::uint32_t c = table.count_at(slot);
      if (c > r.best_count) {
        r.best_count = c;
        r.best_start = i;
      }
      if (c == 2) {
        flags[table.first_at(slot)] = 1;
        flags[i] = 1;
        r.flagged += 2;
      } else if (c > 2) {
        flags[i] = 1;
        ++r.flagged;
      }
    }
  }
  if (r.best_count <= 1) {
    r.best_count = 1;
    r.best_start = 0;
  }
  return r;
}

/** Characters covered by repeated n-grams, skipping n words after each hit (Gopher's scan). */
double all_duplicate_chars(const Prefix& prefix, const std::uint32_t* lengths, std::size_t words, int n,
                           const std::uint8_t* repeated, std::size_t repeated_count, NgramTable& table) {
  if (words + 1 <= static_cast<std::size_t>(n)) return 0;
  const std::size_t count = words - n + 1;
  table.reset(repeated ? repeated_count : count);
  double chars = 0;
  std::size_t i = 0;
  while (i < count) {
    if (repeated && repeated[i] == 0) {
      ++i;
      continue;
    }
    const std::size_t slot = table.add(prefix.a(i, n), prefix.b(i, n), 0);
    if (table.count_at(slot) > 1) {
      for (int k = 0; k < n; ++k) chars += lengths[i + k];
      i += n;
    } else {
      ++i;
    }
  }
  return chars;
}

/** Upper bound on count(g)·chars(g) of the most frequent n-gram, from word and pair sketches. */
struct TopBound {
  double max_chars1 = 0, max_chars2 = 0, max_count2 = 0;
  std::size_t words = 0;
  double chars(int n) const {
    if (static_cast<std::size_t>(n) > words) return 0;
    const int pairs = n >> 1;
    const int pieces = pairs + (n & 1);
    return pairs * max_chars2 + (n & 1) * max_chars1 + (pieces - 1) * max_count2;
  }
};

TopBound top_bound(const std::uint32_t* hashes, const std::uint32_t* lengths, std::size_t words,
                   std::vector<std::uint32_t>& sketch) {
  TopBound bound;
  bound.words = words;
  int bits = 8;
  while (bits < 16 && (std::size_t{1} << bits) < words * 2) ++bits;
  const std::size_t size = std::size_t{4} << bits;
  sketch.assign(size, 0);
  const std::uint32_t mask = (1u << bits) - 1;
  std::uint32_t max1 = 0, max2 = 0, maxc = 0;
  for (std::size_t i = 0; i < words; ++i) {
    const std::uint32_t h = hashes[i];
    const std::size_t at1 = static_cast<std::size_t>((h ^ (h >> 15)) & mask) << 2;
    const std::uint32_t chars1 = sketch[at1] += lengths[i];
    max1 = std::max(max1, chars1);
    if (i + 1 == words) break;
    const std::uint32_t pair = h * kBaseA + hashes[i + 1];
    const std::size_t at2 = static_cast<std::size_t>((pair ^ (pair >> 15)) & mask) << 2;
    const std::uint32_t count2 = ++sketch[at2 + 1];
    maxc = std::max(maxc, count2);
    const std::uint32_t chars2 = sketch[at2 + 2] += lengths[i] + lengths[i + 1] + 1;
    max2 = std::max(max2, chars2);
  }
  bound.max_chars1 = max1;
  bound.max_chars2 = max2;
  bound.max_count2 = maxc;
  return bound;
}

/** Union length of the windows [i, i + n) over flagged i (an upper bound of the duplicate chars). */
void covered_chars(const std::uint32_t* lengths, std::size_t words, const std::uint8_t* flags, std::size_t flag_count,
                   std::size_t flagged, const std::vector<int>& ns, int min_n, std::vector<double>& out) {
  out.assign(ns.size(), 0);
  if (flagged == 0) return;
  std::vector<std::size_t> until(ns.size(), 0);
  for (std::size_t i = 0; i < flag_count; ++i) {
    if (flags[i] == 0) continue;
    for (std::size_t t = 0; t < ns.size(); ++t) {
      const int n = ns[t];
      if (n < min_n || i + n > words) continue;
      double chars = out[t];
      for (std::size_t w = std::max(i, until[t]); w < i + n; ++w) chars += lengths[w];
      out[t] = chars;
      until[t] = i + n;
    }
  }
}

struct Scratch {
  Prefix prefix;
  NgramTable table;
  std::vector<std::uint8_t> sketch = std::vector<std::uint8_t>(1 << 16);
  std::vector<std::uint32_t> bound_sketch;
  std::vector<std::uint8_t> flags[2];
  std::vector<double> bounds;
};

thread_local Scratch scratch;

}  // namespace

int gopher_ngrams(const std::uint32_t* hashes, const std::uint32_t* lengths, std::size_t words, double length,
                  const std::vector<int>& top_ns, const std::vector<double>& top_fractions, const std::vector<int>& dup_ns,
                  const std::vector<double>& dup_fractions, double* fraction_out) {
  Scratch& s = scratch;
  int max_n = 0;
  int min_dup_n = 1 << 30;
  for (int n : top_ns) max_n = std::max(max_n, n);
  for (int n : dup_ns) {
    max_n = std::max(max_n, n);
    min_dup_n = std::min(min_dup_n, n);
  }
  s.prefix.prepare(hashes, words, max_n);
  for (auto& f : s.flags)
    if (f.size() < words + 1) f.assign(std::max(words + 1, 2 * f.size()), 0);
  // Which of the two flag buffers holds the current flags (-1: none).
  int flags_at = -1;
  std::size_t flagged = 0;
  int flags_n = 0;
  bool top_settled = false;
  if (!top_ns.empty()) {
    const TopBound bound = top_bound(hashes, lengths, words, s.bound_sketch);
    top_settled = true;
    for (std::size_t t = 0; t < top_ns.size() && top_settled; ++t)
      if (bound.chars(top_ns[t]) / length > top_fractions[t]) top_settled = false;
  }
  for (std::size_t t = 0; t < (top_settled ? 0 : top_ns.size()); ++t) {
    const int n = top_ns[t];
    const bool use_flags = flags_at >= 0 && flags_n <= n;
    const int out_at = flags_at == 0 ? 1 : 0;
    const PassResult pass = count_pass(s.prefix, words, n, use_flags ? s.flags[flags_at].data() : nullptr,
                                       use_flags ? flagged : 0, s.flags[out_at].data(), s.sketch, s.table);
    if (n > flags_n) {
      flags_at = out_at;
      flagged = pass.flagged;
      flags_n = n;
    }
    double chars = n - 1;
    for (int k = 0; k < n && pass.count > 0; ++k) chars += lengths[pass.best_start + k];
    const double top = pass.count > 0 ? chars * pass.best_count : 0;
    if (top / length > top_fractions[t]) {
      *fraction_out = top / length;
      return static_cast<int>(t);
    }
  }
  if (dup_ns.empty()) return -1;
  const bool use_flags = flags_at >= 0 && flags_n <= min_dup_n;
  const int out_at = flags_at == 0 ? 1 : 0;
  const PassResult repeated = count_pass(s.prefix, words, min_dup_n, use_flags ? s.flags[flags_at].data() : nullptr,
                                         use_flags ? flagged : 0, s.flags[out_at].data(), s.sketch, s.table);
  const std::uint8_t* repeated_flags = s.flags[out_at].data();
  covered_chars(lengths, words, repeated_flags, repeated.count, repeated.flagged, dup_ns, min_dup_n, s.bounds);
  for (std::size_t t = 0; t < dup_ns.size(); ++t) {
    const int n = dup_ns[t];
    const double fraction = dup_fractions[t];
    if (n >= min_dup_n && s.bounds[t] / length <= fraction) continue;
    const double dup = n >= min_dup_n
                           ? all_duplicate_chars(s.prefix, lengths, words, n, repeated_flags, repeated.flagged, s.table)
                           : all_duplicate_chars(s.prefix, lengths, words, n, nullptr, 0, s.table);
    if (dup / length > fraction) {
      *fraction_out = dup / length;
      return static_cast<int>(top_ns.size() + t);
    }
  }
  return -1;
}

}  // namespace deepline::text

namespace {

using deepline::napi::count_arg;
using deepline::napi::throw_error;
using deepline::napi::typed_array_of;

napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

// scanWordsLatin1(codes: Uint8Array, length, starts: Uint32Array, lengths: Uint32Array,
//                 hashes: Uint32Array, kinds: Uint8Array): number of words
napi_value ScanWordsLatin1(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!deepline::napi::get_args(env, info, "scanWordsLatin1", argv)) return nullptr;
  std::uint8_t* codes;
  std::uint32_t *starts, *lengths, *hashes;
  std::uint8_t* kinds;
  std::size_t codes_len, length, n1, n2, n3, n4;
  if (!typed_array_of(env, argv[0], napi_uint8_array, "codes (Uint8Array)", &codes, &codes_len) ||
      !count_arg(env, argv[1], "length", &length) ||
      !typed_array_of(env, argv[2], napi_uint32_array, "starts (Uint32Array)", &starts, &n1) ||
      !typed_array_of(env, argv[3], napi_uint32_array, "lengths (Uint32Array)", &lengths, &n2) ||
      !typed_array_of(env, argv[4], napi_uint32_array, "hashes (Uint32Array)", &hashes, &n3) ||
      !typed_array_of(env, argv[5], napi_uint8_array, "kinds (Uint8Array)", &kinds, &n4))
    return nullptr;
  if (length > codes_len) return throw_error(env, "length exceeds codes"), nullptr;
  // A word takes a character and a separator: (length + 1) / 2 slots always suffice.
  const std::size_t most = (length + 1) / 2;
  if (std::min({n1, n2, n3, n4}) < most)
    return throw_error(env, "output arrays need (length + 1) / 2 slots"), nullptr;
  return number(env, static_cast<double>(deepline::text::scan_words_latin1(codes, length, starts, lengths, hashes, kinds)));
}

// dedupHashesLatin1(codes: Uint8Array, length, out: Uint32Array, folded: Uint16Array(256),
//                   classes: Uint8Array(256)): number of words
napi_value DedupHashesLatin1(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!deepline::napi::get_args(env, info, "dedupHashesLatin1", argv)) return nullptr;
  std::uint8_t *codes, *classes;
  std::uint32_t* out;
  std::uint16_t* folded;
  std::size_t codes_len, length, out_len, folded_len, classes_len;
  if (!typed_array_of(env, argv[0], napi_uint8_array, "codes (Uint8Array)", &codes, &codes_len) ||
      !count_arg(env, argv[1], "length", &length) ||
      !typed_array_of(env, argv[2], napi_uint32_array, "out (Uint32Array)", &out, &out_len) ||
      !typed_array_of(env, argv[3], napi_uint16_array, "folded (Uint16Array)", &folded, &folded_len) ||
      !typed_array_of(env, argv[4], napi_uint8_array, "classes (Uint8Array)", &classes, &classes_len))
    return nullptr;
  if (length > codes_len) return throw_error(env, "length exceeds codes"), nullptr;
  if (folded_len < 256 || classes_len < 256) return throw_error(env, "folded and classes need 256 entries"), nullptr;
  if (out_len < (length + 1) / 2) return throw_error(env, "out needs (length + 1) / 2 slots"), nullptr;
  return number(env, static_cast<double>(deepline::text::dedup_hashes_latin1(codes, length, out, folded, classes)));
}

// gopherNgrams(hashes: Uint32Array, lengths: Uint32Array, params: Float64Array, out: Float64Array)
// params: [text length, top count, (n, fraction)…, dup count, (n, fraction)…]. Returns -1 when
// the document passes; else the failed rule (top rules first, then dup rules), its fraction in out[0].
napi_value GopherNgrams(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!deepline::napi::get_args(env, info, "gopherNgrams", argv)) return nullptr;
  std::uint32_t *hashes, *lengths;
  double *params, *out;
  std::size_t words, words2, count, out_len;
  if (!typed_array_of(env, argv[0], napi_uint32_array, "hashes (Uint32Array)", &hashes, &words) ||
      !typed_array_of(env, argv[1], napi_uint32_array, "lengths (Uint32Array)", &lengths, &words2) ||
      !typed_array_of(env, argv[2], napi_float64_array, "params (Float64Array)", &params, &count) ||
      !typed_array_of(env, argv[3], napi_float64_array, "out (Float64Array)", &out, &out_len))
    return nullptr;
  if (words != words2) return throw_error(env, "hashes and lengths differ in length"), nullptr;
  if (out_len < 1) return throw_error(env, "out needs one slot"), nullptr;
  std::vector<int> top_ns, dup_ns;
  std::vector<double> top_fractions, dup_fractions;
  std::size_t at = 0;
  auto read_rules = [&](std::vector<int>& ns, std::vector<double>& fractions) {
    if (at >= count) return false;
    const double rules = params[at++];
    if (!(rules >= 0) || rules > 64 || at + 2 * static_cast<std::size_t>(rules) > count) return false;
    for (std::size_t r = 0; r < static_cast<std::size_t>(rules); ++r) {
      const double n = params[at++];
      if (!(n >= 1 && n <= 1024) || n != static_cast<int>(n)) return false;
      ns.push_back(static_cast<int>(n));
      fractions.push_back(params[at++]);
    }
    return true;
  };
  if (count < 1 || !(params[0] > 0)) return throw_error(env, "params[0] must be the text length (> 0)"), nullptr;
  const double length = params[at++];
  if (!read_rules(top_ns, top_fractions) || !read_rules(dup_ns, dup_fractions))
    return throw_error(env, "params: bad rule list (count, then n and fraction per rule; n from 1 to 1024)"), nullptr;
  return number(env, deepline::text::gopher_ngrams(hashes, lengths, words, length, top_ns, top_fractions, dup_ns,
                                                   dup_fractions, out));
}

// duplicatePiecesLatin1(codes: Uint8Array, length, trim: boolean, minNewlines: 1 | 2, out: Float64Array(3)):
// pieces, repeated pieces and their characters of the text (trimmed first when asked).
napi_value DuplicatePiecesLatin1(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!deepline::napi::get_args(env, info, "duplicatePiecesLatin1", argv)) return nullptr;
  std::uint8_t* codes;
  double* out;
  std::size_t codes_len, length, newlines, out_len;
  bool trim = false;
  if (!typed_array_of(env, argv[0], napi_uint8_array, "codes (Uint8Array)", &codes, &codes_len) ||
      !count_arg(env, argv[1], "length", &length) ||
      !count_arg(env, argv[3], "minNewlines", &newlines) ||
      !typed_array_of(env, argv[4], napi_float64_array, "out (Float64Array)", &out, &out_len))
    return nullptr;
  if (napi_get_value_bool(env, argv[2], &trim) != napi_ok) return throw_error(env, "trim must be a boolean"), nullptr;
  if (length > codes_len) return throw_error(env, "length exceeds codes"), nullptr;
  if (newlines != 1 && newlines != 2) return throw_error(env, "minNewlines must be 1 or 2"), nullptr;
  if (out_len < 3) return throw_error(env, "out needs 3 slots"), nullptr;
  deepline::text::duplicate_pieces_latin1(codes, length, trim, static_cast<int>(newlines), out);
  return nullptr;
}

// minhashSignature(wordHashes: Uint32Array, ngram, mulA: Int32Array, xorB: Int32Array,
//                  signature: Int32Array): the MinHash signature of the word-hash shingles.
napi_value MinhashSignature(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!deepline::napi::get_args(env, info, "minhashSignature", argv)) return nullptr;
  std::uint32_t* words;
  std::int32_t *mul_a, *xor_b, *signature;
  std::size_t count, ngram, k_a, k_b, k_sig;
  if (!typed_array_of(env, argv[0], napi_uint32_array, "wordHashes (Uint32Array)", &words, &count) ||
      !count_arg(env, argv[1], "ngram", &ngram) ||
      !typed_array_of(env, argv[2], napi_int32_array, "mulA (Int32Array)", &mul_a, &k_a) ||
      !typed_array_of(env, argv[3], napi_int32_array, "xorB (Int32Array)", &xor_b, &k_b) ||
      !typed_array_of(env, argv[4], napi_int32_array, "signature (Int32Array)", &signature, &k_sig))
    return nullptr;
  if (count == 0 || ngram == 0) return throw_error(env, "wordHashes and ngram must be non-empty"), nullptr;
  if (k_a != k_b || k_sig < k_a) return throw_error(env, "mulA, xorB and signature differ in length"), nullptr;
  deepline::text::minhash_signature(words, count, ngram, mul_a, xor_b, k_a, signature);
  return nullptr;
}

}  // namespace

void deepline_register_text_kernels(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"scanWordsLatin1", nullptr, ScanWordsLatin1, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"dedupHashesLatin1", nullptr, DedupHashesLatin1, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gopherNgrams", nullptr, GopherNgrams, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"minhashSignature", nullptr, MinhashSignature, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"duplicatePiecesLatin1", nullptr, DuplicatePiecesLatin1, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
