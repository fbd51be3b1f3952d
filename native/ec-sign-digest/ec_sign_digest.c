/*
 * ECDSA over a digest the caller computed (the KMS's `message_type: hash` with a software key), through the
 * OpenSSL that Node itself is built with. Node 20's public APIs always hash the message first, and doing the
 * scalar arithmetic in JavaScript BigInts is not constant-time; ECDSA_do_sign is OpenSSL's own signing with
 * its constant-time nonce and inversion handling.
 *
 * sign(curve, digest, d) -> Uint8Array
 *   curve: 0 P-256, 1 P-384, 2 P-521; digest: the hash output (longer than the order: its leftmost bits are
 *   used, FIPS 186-5 6.4.1); d: the private scalar, big-endian. Returns the DER Ecdsa-Sig-Value.
 * Throws an Error when OpenSSL fails (a scalar outside [1, n-1] included), a TypeError on wrong arguments.
 */
#include "ec_addon.h"
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>

/* The DER signature in a fresh buffer (OPENSSL_malloc'd, *len bytes), or NULL. */
static unsigned char *sign_digest(int curve, const unsigned char *digest, size_t digest_len, const unsigned char *d, size_t d_len, int *len) {
  unsigned char *der = NULL;
  ECDSA_SIG *sig = NULL;
  EC_KEY *key = EC_KEY_new();
  BIGNUM *priv = BN_secure_new();
  *len = 0;
  if (key && priv && groups[curve] && EC_KEY_set_group(key, groups[curve]) && BN_bin2bn(d, (int)d_len, priv)) {
    BN_set_flags(priv, BN_FLG_CONSTTIME);
    const BIGNUM *order = EC_GROUP_get0_order(groups[curve]);
    /* d must be in [1, n-1]; EC_KEY_set_private_key does not check it. */
    if (!BN_is_zero(priv) && BN_cmp(priv, order) < 0 && EC_KEY_set_private_key(key, priv)) {
      sig = ECDSA_do_sign(digest, (int)digest_len, key);
      if (sig) *len = i2d_ECDSA_SIG(sig, &der);
    }
  }
  ECDSA_SIG_free(sig);
  BN_clear_free(priv);
  EC_KEY_free(key); /* clears the copy of the private key it holds */
  /* Leave nothing on this thread's OpenSSL error queue for Node's own crypto calls to trip over. */
  ERR_clear_error();
  if (*len <= 0) {
    OPENSSL_free(der);
    return NULL;
  }
  return der;
}

static napi_value sign(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t curve;
  const unsigned char *digest, *d;
  size_t digest_len, d_len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc != 3 || napi_get_value_int32(env, argv[0], &curve) != napi_ok || curve < 0 || curve >= CURVES) {
    napi_throw_type_error(env, NULL, "sign(curve 0-2, digest, d)");
    return NULL;
  }
  if (!bytes_of(env, argv[1], &digest, &digest_len) || !bytes_of(env, argv[2], &d, &d_len)) return NULL;
  if (digest_len == 0 || digest_len > 64 || d_len == 0 || d_len > 66) {
    napi_throw_type_error(env, NULL, "a digest of 1-64 bytes and a scalar of 1-66 bytes");
    return NULL;
  }
  int len;
  unsigned char *der = sign_digest(curve, digest, digest_len, d, d_len, &len);
  if (!der) {
    napi_throw_error(env, NULL, "ECDSA signing failed (is the scalar in [1, n-1]?)");
    return NULL;
  }
  void *out;
  napi_value result;
  napi_status status = napi_create_buffer_copy(env, (size_t)len, der, &out, &result);
  OPENSSL_free(der);
  return status == napi_ok ? result : NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  pthread_once(&groups_once, make_groups);
  if (napi_create_function(env, "sign", NAPI_AUTO_LENGTH, sign, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sign", fn) != napi_ok) return NULL;
  return exports;
}
