/*
 * What the ECDSA addons share: the curves in the order the JavaScript side numbers them (P-256, P-384,
 * P-521; src/x509/native-addon.ts), their groups built once per process, and reading a Uint8Array argument.
 * Included by one C file per addon, so the definitions are static.
 */
#ifndef LAMASSU_EC_ADDON_H
#define LAMASSU_EC_ADDON_H

#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <pthread.h>

#define CURVES 3
static const int curve_nids[CURVES] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};
static EC_GROUP *groups[CURVES];
static pthread_once_t groups_once = PTHREAD_ONCE_INIT;

/* Groups are built once per process and only read afterwards (EC_KEY_set_group copies them). */
static void make_groups(void) {
  for (int i = 0; i < CURVES; i++) groups[i] = EC_GROUP_new_by_curve_name(curve_nids[i]);
}

/* The bytes of a Uint8Array argument; throws a TypeError (and returns 0) for anything else. */
static int bytes_of(napi_env env, napi_value value, const unsigned char **data, size_t *len) {
  napi_typedarray_type type;
  void *base;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, len, &base, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return 0;
  }
  *data = base;
  return 1;
}

#endif
