// Text kernels of @deepline/data's cleaning chain (see text.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#define NAPI_VERSION 8
#include <node_api.h>

namespace deepline::text {

/** Whitespace-separated words of Latin-1 bytes: offsets, lengths, FNV-1a hashes (murmur-finalised), kind bits. */
std::size_t scan_words_latin1(const std::uint8_t* codes, std::size_t length, std::uint32_t* starts,
                              std::uint32_t* lengths, std::uint32_t* hashes, std::uint8_t* kinds);

/** Hashes of the dedup-normalised words (letters folded by `folded`, digit runs as one "0"). */
std::size_t dedup_hashes_latin1(const std::uint8_t* codes, std::size_t length, std::uint32_t* out,
                                const std::uint16_t* folded, const std::uint8_t* classes);

/** Pieces of the text split at runs of min_newlines+ newlines (trimmed first when asked): out = pieces, repeats, their chars. */
void duplicate_pieces_latin1(const std::uint8_t* codes, std::size_t length, bool trim, int min_newlines, double* out);

/** MinHash signature (k signed minima) of the ngram-word shingles of `words`. */
void minhash_signature(const std::uint32_t* words, std::size_t count, std::size_t ngram, const std::int32_t* mul_a,
                       const std::int32_t* xor_b, std::size_t k, std::int32_t* signature);

/** Gopher's top and duplicated n-gram rules: -1 when all pass, else the failed rule's index. */
int gopher_ngrams(const std::uint32_t* hashes, const std::uint32_t* lengths, std::size_t words, double length,
                  const std::vector<int>& top_ns, const std::vector<double>& top_fractions, const std::vector<int>& dup_ns,
                  const std::vector<double>& dup_fractions, double* fraction_out);

}  // namespace deepline::text

/** Adds the text kernels' N-API functions to the addon's exports. */
void deepline_register_text_kernels(napi_env env, napi_value exports);

/** Adds fastTextCreate / fastTextHidden (native/fasttext.cc). */
void deepline_register_fasttext_kernels(napi_env env, napi_value exports);
