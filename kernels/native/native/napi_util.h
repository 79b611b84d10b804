// Argument helpers shared by the addon's N-API bindings (addon.cc, text.cc, fasttext.cc): each
// throws a JavaScript error naming the argument and returns false, so a bad call throws
// instead of reaching a kernel.
#pragma once

#define NAPI_VERSION 8
#include <node_api.h>

#include <cstddef>
#include <string>

namespace deepline::napi {

inline bool throw_error(napi_env env, const std::string& message) {
  napi_throw_error(env, "DEEPLINE_NATIVE", message.c_str());
  return false;
}

/** The data and element count of a typed array of exactly the `want` type. */
template <class T>
bool typed_array_of(napi_env env, napi_value value, napi_typedarray_type want, const char* name, T** data, std::size_t* length) {
  bool is = false;
  napi_is_typedarray(env, value, &is);
  napi_typedarray_type type;
  napi_value buffer;
  std::size_t offset = 0;
  void* ptr = nullptr;
  if (!is || napi_get_typedarray_info(env, value, &type, length, &ptr, &buffer, &offset) != napi_ok || type != want)
    return throw_error(env, std::string(name) + " has the wrong type");
  *data = static_cast<T*>(ptr);
  return true;
}

/** Reads the call's first N arguments into argv; throws naming `fn` when fewer were passed. */
template <std::size_t N>
bool get_args(napi_env env, napi_callback_info info, const char* fn, napi_value (&argv)[N]) {
  std::size_t argc = N;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < N) return throw_error(env, std::string(fn) + " takes " + std::to_string(N) + " arguments");
  return true;
}

/** A non-negative integer below 2³² (a count or a length). */
inline bool count_arg(napi_env env, napi_value value, const char* name, std::size_t* out) {
  double v = -1;
  if (napi_get_value_double(env, value, &v) != napi_ok || !(v >= 0) || v > 4294967295.0 ||
      v != static_cast<double>(static_cast<unsigned long long>(v)))
    return throw_error(env, std::string(name) + " must be a non-negative integer");
  *out = static_cast<std::size_t>(v);
  return true;
}

}  // namespace deepline::napi
