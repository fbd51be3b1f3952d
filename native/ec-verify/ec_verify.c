/*
 * ECDSA verification for a public key seen once (a CSR's, an OCSP requester's), through the OpenSSL that
 * Node itself is built with. Node 20's public APIs load such a key either through OpenSSL 3's generic
 * decoder or with a full key check (a scalar multiplication), which together cost more than the
 * verification itself; here the point is decoded straight into an EC_KEY (EC_POINT_oct2point checks it is
 * on the curve, which is all a prime-order curve needs) and verified with ECDSA_verify.
 *
 * verify(curve, hash, point, data, signature) -> boolean
 *   curve: 0 P-256, 1 P-384, 2 P-521; hash: 0 SHA-224, 1 SHA-256, 2 SHA-384, 3 SHA-512;
 *   point: SEC1 uncompressed (04 || X || Y) or compressed (02|03 || X); signature: DER Ecdsa-Sig-Value.
 * Returns false for anything that does not verify, malformed inputs included; throws only on wrong
 * argument types.
 */
#include "ec_addon.h"
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/sha.h>

static const size_t field_bytes[CURVES] = {32, 48, 66};

/* A finite point in SEC1 form of the right length; the point at infinity (a lone 00) is refused. */
static int well_formed_point(int curve, const unsigned char *p, size_t len) {
  size_t n = field_bytes[curve];
  if (len == 1 + 2 * n) return p[0] == 0x04;
  if (len == 1 + n) return p[0] == 0x02 || p[0] == 0x03;
  return 0;
}

static int digest(int hash, const unsigned char *data, size_t len, unsigned char *out, int *out_len) {
  switch (hash) {
    case 0: SHA224(data, len, out); *out_len = SHA224_DIGEST_LENGTH; return 1;
    case 1: SHA256(data, len, out); *out_len = SHA256_DIGEST_LENGTH; return 1;
    case 2: SHA384(data, len, out); *out_len = SHA384_DIGEST_LENGTH; return 1;
    case 3: SHA512(data, len, out); *out_len = SHA512_DIGEST_LENGTH; return 1;
    default: return 0;
  }
}

static int verify_ecdsa(int curve, int hash, const unsigned char *point, size_t point_len, const unsigned char *data,
                        size_t data_len, const unsigned char *sig, size_t sig_len) {
  unsigned char md[SHA512_DIGEST_LENGTH];
  int md_len = 0;
  int ok = 0;
  if (!groups[curve] || !well_formed_point(curve, point, point_len) || sig_len > 256) return 0;
  if (!digest(hash, data, data_len, md, &md_len)) return 0;
  EC_KEY *key = EC_KEY_new();
  if (key && EC_KEY_set_group(key, groups[curve]) && EC_KEY_oct2key(key, point, point_len, NULL)) {
    ok = ECDSA_verify(0, md, md_len, sig, (int)sig_len, key) == 1;
  }
  EC_KEY_free(key);
  /* Leave nothing on this thread's OpenSSL error queue for Node's own crypto calls to trip over. */
  ERR_clear_error();
  return ok;
}

static napi_value verify(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t curve, hash;
  const unsigned char *point, *data, *sig;
  size_t point_len, data_len, sig_len;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc != 5 || napi_get_value_int32(env, argv[0], &curve) != napi_ok || napi_get_value_int32(env, argv[1], &hash) != napi_ok ||
      curve < 0 || curve >= CURVES || hash < 0 || hash > 3) {
    napi_throw_type_error(env, NULL, "verify(curve 0-2, hash 0-3, point, data, signature)");
    return NULL;
  }
  if (!bytes_of(env, argv[2], &point, &point_len) || !bytes_of(env, argv[3], &data, &data_len) || !bytes_of(env, argv[4], &sig, &sig_len)) return NULL;
  napi_get_boolean(env, verify_ecdsa(curve, hash, point, point_len, data, data_len, sig, sig_len), &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  pthread_once(&groups_once, make_groups);
  if (napi_create_function(env, "verify", NAPI_AUTO_LENGTH, verify, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "verify", fn) != napi_ok) return NULL;
  return exports;
}
