// fastText's input side for @deepline/data's language ID: tokenising one line of UTF-8, the
// rows of its words, character n-grams and word n-grams (dictionary, pruned buckets), and their
// float32 mean. The caller (data's FastTextModel, which parsed the model file) hands the tables
// over once; the output side (hierarchical softmax, top-k) stays in JavaScript. The sum runs row
// by row in fastText's order, in float32 without fused multiply-adds, so the hidden vector is
// bit for bit the JavaScript's (and fastText's).
#define NAPI_VERSION 8
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "napi_util.h"
#include "text.h"

namespace {

constexpr std::uint32_t kFnvOffset = 0x811c9dc5u;
constexpr std::uint32_t kFnvPrime = 16777619u;
constexpr char kEos[] = "</s>";
constexpr char kLabelPrefix[] = "__label__";

bool is_space(std::uint8_t b) { return b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0b || b == 0x0c || b == 0x0d || b == 0; }

// FNV-1a with each byte sign-extended, as fastText's `char` is signed.
std::uint32_t hash_bytes(const std::uint8_t* p, std::size_t n) {
  std::uint32_t h = kFnvOffset;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int8_t>(p[i])))) * kFnvPrime;
  return h;
}

struct FastTextInput {
  // Dictionary.
  std::vector<std::uint8_t> entry_bytes;
  std::vector<std::int32_t> entry_start;
  std::vector<std::uint8_t> types;
  std::vector<std::uint32_t> entry_hash;
  std::vector<std::int32_t> table;
  std::size_t table_mask = 0;
  std::int32_t nwords = 0, eos_id = -1;
  std::uint32_t bucket = 0;
  int minn = 0, maxn = 0, word_ngrams = 1, dim = 0;
  // Pruned buckets (empty: no pruning).
  std::vector<std::int32_t> prune_keys, prune_values;
  std::size_t prune_mask = 0;
  // Input matrix: dense rows, or product-quantized codes (optionally with per-row norms).
  std::size_t rows = 0;
  bool quantized = false;
  std::vector<float> dense;
  std::vector<std::uint8_t> codes, norm_codes;
  std::vector<float> centroids, norm_centroids;
  int nsubq = 0, dsub = 0, lastdsub = 0;
  // Per entry: its rows (itself, then its n-grams), computed on first use.
  std::vector<std::int32_t> sub_start, sub_end, subwords;
  // Scratch.
  std::vector<std::int32_t> row_ids, word_hashes, ngram_rows;
  std::vector<std::uint8_t> word_buf;
  std::vector<float> acc;

  std::int32_t lookup(const std::uint8_t* p, std::size_t n, std::uint32_t h) const {
    for (std::size_t slot = h & table_mask;; slot = (slot + 1) & table_mask) {
      const std::int32_t id = table[slot];
      if (id < 0) return -1;
      if (entry_hash[id] == h && static_cast<std::size_t>(entry_start[id + 1] - entry_start[id]) == n &&
          std::memcmp(entry_bytes.data() + entry_start[id], p, n) == 0)
        return id;
    }
  }

  std::int32_t bucket_row(std::uint32_t id) const {
    if (prune_keys.empty()) return nwords + static_cast<std::int32_t>(id);
    for (std::size_t slot = (id * 0x9e3779b1u) & prune_mask;; slot = (slot + 1) & prune_mask) {
      const std::int32_t key = prune_keys[slot];
      if (key == -1) return -1;
      if (key == static_cast<std::int32_t>(id)) return nwords + prune_values[slot];
    }
  }

  /** Rows of the character n-grams of `<word>` in word_buf[0, n), into ngram_rows. */
  void ngrams(std::size_t n) {
    ngram_rows.clear();
    if (maxn <= 0) return;
    const std::uint8_t* buf = word_buf.data();
    for (std::size_t i = 0; i < n; ++i) {
      if ((buf[i] & 0xc0) == 0x80) continue;
      std::uint32_t h = kFnvOffset;
      std::size_t j = i;
      for (int len = 1; j < n && len <= maxn; ++len) {
        h = (h ^ static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int8_t>(buf[j++])))) * kFnvPrime;
        while (j < n && (buf[j] & 0xc0) == 0x80)
          h = (h ^ static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int8_t>(buf[j++])))) * kFnvPrime;
        if (len >= minn && !(len == 1 && (i == 0 || j == n))) {
          const std::int32_t row = bucket_row(h % bucket);
          if (row >= 0) ngram_rows.push_back(row);
        }
      }
    }
  }

  void word_in_brackets(const std::uint8_t* p, std::size_t len) {
    word_buf.resize(len + 2);
    word_buf[0] = '<';
    std::memcpy(word_buf.data() + 1, p, len);
    word_buf[len + 1] = '>';
  }

  void add_entry_rows(std::int32_t id) {
    if (sub_start[id] < 0) {
      const auto start = static_cast<std::int32_t>(subwords.size());
      subwords.push_back(id);
      if (id != eos_id) {
        const std::int32_t ws = entry_start[id];
        word_in_brackets(entry_bytes.data() + ws, static_cast<std::size_t>(entry_start[id + 1] - ws));
        ngrams(word_buf.size());
        subwords.insert(subwords.end(), ngram_rows.begin(), ngram_rows.end());
      }
      sub_start[id] = start;
      sub_end[id] = static_cast<std::int32_t>(subwords.size());
    }
    row_ids.insert(row_ids.end(), subwords.begin() + sub_start[id], subwords.begin() + sub_end[id]);
  }

  void add_eos() {
    const std::uint32_t h = hash_bytes(reinterpret_cast<const std::uint8_t*>(kEos), 4);
    if (eos_id >= 0 && types[eos_id] == 1) return;
    if (eos_id >= 0) add_entry_rows(eos_id);
    word_hashes.push_back(static_cast<std::int32_t>(h));
  }

  /** One token's rows; true when it is "</s>" (the end of the line). */
  bool add_token(const std::uint8_t* p, std::size_t n) {
    const std::uint32_t h = hash_bytes(p, n);
    const std::int32_t id = lookup(p, n, h);
    const bool eos = n == 4 && std::memcmp(p, kEos, 4) == 0;
    if (id >= 0) {
      if (types[id] == 1) return eos;  // a label in the input is not a feature
      add_entry_rows(id);
    } else {
      if (n >= 9 && std::memcmp(p, kLabelPrefix, 9) == 0) return eos;
      if (!eos) {
        word_in_brackets(p, n);
        ngrams(word_buf.size());
        row_ids.insert(row_ids.end(), ngram_rows.begin(), ngram_rows.end());
      }
    }
    word_hashes.push_back(static_cast<std::int32_t>(h));
    return eos;
  }

  void add_word_ngrams() {
    const std::size_t count = word_hashes.size();
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t h = static_cast<std::uint64_t>(static_cast<std::int64_t>(word_hashes[i]));
      for (std::size_t j = i + 1; j < count && j < i + static_cast<std::size_t>(word_ngrams); ++j) {
        h = h * 116049371ull + static_cast<std::uint64_t>(static_cast<std::int64_t>(word_hashes[j]));
        const std::int32_t row = bucket_row(static_cast<std::uint32_t>(h % bucket));
        if (row >= 0) row_ids.push_back(row);
      }
    }
  }

  /** hidden = mean of the line's rows; returns how many (0: none, hidden untouched). */
  std::size_t hidden(const std::uint8_t* bytes, std::size_t len, float* out) {
    row_ids.clear();
    word_hashes.clear();
    std::size_t i = 0;
    bool ended = false;
    while (i < len && !ended) {
      while (i < len && is_space(bytes[i]) && bytes[i] != 0x0a) ++i;
      if (i >= len) break;
      if (bytes[i] == 0x0a) {
        add_eos();
        ended = true;
        break;
      }
      const std::size_t start = i;
      while (i < len && !is_space(bytes[i])) ++i;
      ended = add_token(bytes + start, i - start);
    }
    if (!ended) add_eos();
    if (word_ngrams > 1) add_word_ngrams();
    const std::size_t n = row_ids.size();
    if (n == 0) return 0;
    acc.assign(static_cast<std::size_t>(dim), 0.0f);
    float* a = acc.data();
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t row = static_cast<std::size_t>(row_ids[r]);
      if (row >= rows) continue;  // unreachable with a consistent model (checked at creation)
      if (!quantized) {
        const float* v = dense.data() + row * static_cast<std::size_t>(dim);
        for (int j = 0; j < dim; ++j) a[j] = a[j] + v[j];
        continue;
      }
      const std::uint8_t* code = codes.data() + row * static_cast<std::size_t>(nsubq);
      const float alpha = norm_codes.empty() ? 1.0f : norm_centroids[norm_codes[row]];
      const bool scaled = !norm_codes.empty();
      for (int m = 0; m < nsubq; ++m) {
        const bool last = m == nsubq - 1;
        const int d = last ? lastdsub : dsub;
        const float* c = last ? centroids.data() + static_cast<std::size_t>(m) * 256 * dsub + code[m] * static_cast<std::size_t>(lastdsub)
                              : centroids.data() + (static_cast<std::size_t>(m) * 256 + code[m]) * dsub;
        float* x = a + m * dsub;
        if (scaled) {
          for (int q = 0; q < d; ++q) {
            volatile float product = alpha * c[q];  // rounded before the add, never fused
            x[q] = x[q] + product;
          }
        } else {
          for (int q = 0; q < d; ++q) x[q] = x[q] + c[q];
        }
      }
    }
    // 1/n in double, then float: fastText's hidden.mul(1.0 / input.size()).
    const float inv = static_cast<float>(1.0 / static_cast<double>(n));
    for (int j = 0; j < dim; ++j) out[j] = a[j] * inv;
    return n;
  }
};

bool fail(napi_env env, const std::string& message) { return deepline::napi::throw_error(env, message); }

/** A copy of a typed array of exactly the `want` type. */
template <typename T>
bool array_of(napi_env env, napi_value value, napi_typedarray_type want, const char* name, std::vector<T>* out) {
  T* data = nullptr;
  std::size_t length = 0;
  if (!deepline::napi::typed_array_of(env, value, want, (std::string("fastTextCreate: ") + name).c_str(), &data, &length))
    return false;
  out->assign(data, data + length);
  return true;
}

// fastTextCreate(params: Float64Array [nwords, bucket, minn, maxn, wordNgrams, dim, rows,
//   quantized, nsubq, dsub, lastdsub], entryBytes: Uint8Array, entryStart: Int32Array,
//   types: Uint8Array, pruneKeys: Int32Array, pruneValues: Int32Array, dense: Float32Array,
//   codes: Uint8Array, centroids: Float32Array, normCodes: Uint8Array, normCentroids: Float32Array)
napi_value FastTextCreate(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!deepline::napi::get_args(env, info, "fastTextCreate", argv)) return nullptr;
  auto model = std::make_unique<FastTextInput>();
  std::vector<double> params;
  if (!array_of(env, argv[0], napi_float64_array, "params", &params)) return nullptr;
  if (params.size() < 11) return fail(env, "fastTextCreate: params needs 11 values"), nullptr;
  FastTextInput& m = *model;
  m.nwords = static_cast<std::int32_t>(params[0]);
  m.bucket = static_cast<std::uint32_t>(params[1]);
  m.minn = static_cast<int>(params[2]);
  m.maxn = static_cast<int>(params[3]);
  m.word_ngrams = static_cast<int>(params[4]);
  m.dim = static_cast<int>(params[5]);
  m.rows = static_cast<std::size_t>(params[6]);
  m.quantized = params[7] != 0;
  m.nsubq = static_cast<int>(params[8]);
  m.dsub = static_cast<int>(params[9]);
  m.lastdsub = static_cast<int>(params[10]);
  if (!array_of(env, argv[1], napi_uint8_array, "entryBytes", &m.entry_bytes) ||
      !array_of(env, argv[2], napi_int32_array, "entryStart", &m.entry_start) ||
      !array_of(env, argv[3], napi_uint8_array, "types", &m.types) ||
      !array_of(env, argv[4], napi_int32_array, "pruneKeys", &m.prune_keys) ||
      !array_of(env, argv[5], napi_int32_array, "pruneValues", &m.prune_values) ||
      !array_of(env, argv[6], napi_float32_array, "dense", &m.dense) ||
      !array_of(env, argv[7], napi_uint8_array, "codes", &m.codes) ||
      !array_of(env, argv[8], napi_float32_array, "centroids", &m.centroids) ||
      !array_of(env, argv[9], napi_uint8_array, "normCodes", &m.norm_codes) ||
      !array_of(env, argv[10], napi_float32_array, "normCentroids", &m.norm_centroids))
    return nullptr;
  // Everything the hot loop indexes is checked once here.
  const std::size_t size = m.types.size();
  if (m.dim <= 0 || m.dim > 4096 || m.nwords < 0 || static_cast<std::size_t>(m.nwords) > size ||
      m.entry_start.size() != size + 1 || m.entry_start[0] != 0 || static_cast<std::size_t>(m.entry_start[size]) > m.entry_bytes.size() ||
      m.rows < static_cast<std::size_t>(m.nwords) || m.minn < 0 || m.maxn < 0 || m.word_ngrams < 1 ||
      ((m.maxn > 0 || m.word_ngrams > 1) && m.bucket == 0))
    return fail(env, "fastTextCreate: inconsistent dictionary or dimensions"), nullptr;
  for (std::size_t i = 0; i < size; ++i)
    if (m.entry_start[i] > m.entry_start[i + 1] || m.entry_start[i] < 0) return fail(env, "fastTextCreate: entryStart is not ascending"), nullptr;
  if (m.prune_keys.size() != m.prune_values.size()) return fail(env, "fastTextCreate: pruneKeys and pruneValues differ in length"), nullptr;
  if (m.quantized) {
    if (m.nsubq <= 0 || m.dsub <= 0 || m.lastdsub <= 0 || (m.nsubq - 1) * m.dsub + m.lastdsub != m.dim ||
        m.codes.size() < m.rows * static_cast<std::size_t>(m.nsubq) || m.centroids.size() < static_cast<std::size_t>(256 * m.dim) ||
        (!m.norm_codes.empty() && (m.norm_codes.size() < m.rows || m.norm_centroids.size() < 256)))
      return fail(env, "fastTextCreate: inconsistent quantized input matrix"), nullptr;
  } else if (m.dense.size() < m.rows * static_cast<std::size_t>(m.dim)) {
    return fail(env, "fastTextCreate: dense input matrix too small"), nullptr;
  }
  for (std::int32_t v : m.prune_values)
    if (v < 0 || static_cast<std::size_t>(m.nwords) + static_cast<std::size_t>(v) >= m.rows)
      return fail(env, "fastTextCreate: a pruned bucket maps past the input matrix"), nullptr;
  if (m.prune_keys.empty() && static_cast<std::size_t>(m.nwords) + m.bucket > m.rows && (m.maxn > 0 || m.word_ngrams > 1))
    return fail(env, "fastTextCreate: buckets reach past the input matrix"), nullptr;
  // Hash tables.
  m.entry_hash.resize(size);
  std::size_t cap = 16;
  while (cap < size * 2) cap <<= 1;
  m.table.assign(cap, -1);
  m.table_mask = cap - 1;
  for (std::size_t i = 0; i < size; ++i) {
    const std::uint32_t h = hash_bytes(m.entry_bytes.data() + m.entry_start[i], static_cast<std::size_t>(m.entry_start[i + 1] - m.entry_start[i]));
    m.entry_hash[i] = h;
    std::size_t slot = h & m.table_mask;
    while (m.table[slot] != -1) slot = (slot + 1) & m.table_mask;
    m.table[slot] = static_cast<std::int32_t>(i);
  }
  if (!m.prune_keys.empty()) {
    std::vector<std::int32_t> keys = std::move(m.prune_keys), values = std::move(m.prune_values);
    std::size_t pcap = 16;
    while (pcap < keys.size() * 2) pcap <<= 1;
    m.prune_keys.assign(pcap, -1);
    m.prune_values.assign(pcap, 0);
    m.prune_mask = pcap - 1;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      std::size_t slot = (static_cast<std::uint32_t>(keys[i]) * 0x9e3779b1u) & m.prune_mask;
      while (m.prune_keys[slot] != -1 && m.prune_keys[slot] != keys[i]) slot = (slot + 1) & m.prune_mask;
      m.prune_keys[slot] = keys[i];
      m.prune_values[slot] = values[i];
    }
  }
  m.sub_start.assign(size, -1);
  m.sub_end.assign(size, 0);
  m.eos_id = m.lookup(reinterpret_cast<const std::uint8_t*>(kEos), 4, hash_bytes(reinterpret_cast<const std::uint8_t*>(kEos), 4));
  napi_value external;
  FastTextInput* raw = model.release();
  napi_create_external(
      env, raw, [](napi_env, void* data, void*) { delete static_cast<FastTextInput*>(data); }, nullptr, &external);
  return external;
}

// fastTextHidden(model, bytes: Uint8Array, length, hidden: Float32Array(dim)): number of rows.
napi_value FastTextHidden(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!deepline::napi::get_args(env, info, "fastTextHidden", argv)) return nullptr;
  void* data = nullptr;
  napi_valuetype kind;
  napi_typeof(env, argv[0], &kind);
  if (kind != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok || data == nullptr)
    return fail(env, "fastTextHidden: model must come from fastTextCreate"), nullptr;
  auto* model = static_cast<FastTextInput*>(data);
  std::uint8_t* bytes = nullptr;
  float* hidden = nullptr;
  std::size_t bytes_len = 0, hidden_len = 0, length = 0;
  if (!deepline::napi::typed_array_of(env, argv[1], napi_uint8_array, "fastTextHidden: bytes (Uint8Array)", &bytes, &bytes_len) ||
      !deepline::napi::count_arg(env, argv[2], "fastTextHidden: length", &length) ||
      !deepline::napi::typed_array_of(env, argv[3], napi_float32_array, "fastTextHidden: hidden (Float32Array)", &hidden, &hidden_len))
    return nullptr;
  if (length > bytes_len) return fail(env, "fastTextHidden: length must be within bytes"), nullptr;
  if (hidden_len < static_cast<std::size_t>(model->dim)) return fail(env, "fastTextHidden: hidden must hold the model's dim floats"), nullptr;
  const std::size_t n = model->hidden(bytes, length, hidden);
  napi_value out;
  napi_create_double(env, static_cast<double>(n), &out);
  return out;
}

}  // namespace

void deepline_register_fasttext_kernels(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"fastTextCreate", nullptr, FastTextCreate, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"fastTextHidden", nullptr, FastTextHidden, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
