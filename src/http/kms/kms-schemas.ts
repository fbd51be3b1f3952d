/** JSON shapes of the KMS API (Lamassu v3.6 `/api/kms/v1`). */
import { Type } from 'typebox';
import { KMS_KEY_SORT_ALIASES, KMS_KEY_SORT_KEYS } from '../../domain/kms/kms-key.ts';
import { FilterParam, sortByParam } from '../list-query.ts';

const opt = Type.Optional;
const Label = Type.String({ minLength: 1, maxLength: 128 });

export const KeyRefParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, description: 'key id (hex SHA-256 of the public key), pkcs11: URI, name or alias' }),
});

export const KmsKeySchema = Type.Object({
  key_id: Type.String({ description: 'hex SHA-256 of the DER SubjectPublicKeyInfo' }),
  pkcs11_uri: Type.String(),
  name: Type.String(),
  aliases: Type.Array(Type.String()),
  engine_id: Type.String(),
  has_private_key: Type.Boolean(),
  algorithm: Type.String({ description: 'RSA, ECDSA or ED25519' }),
  size: Type.Integer({ description: 'RSA modulus bits, EC curve size' }),
  public_key: Type.String({ description: "base64 of the public key's PEM (Lamassu)" }),
  public_key_pem: Type.String({ description: 'the public key as PEM (BEGIN PUBLIC KEY)' }),
  creation_ts: Type.String({ format: 'date-time' }),
  tags: Type.Array(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  origin: Type.String({ description: 'created, imported or ca' }),
});

const Labels = {
  name: opt(Type.String({ maxLength: 128 })),
  aliases: opt(Type.Array(Label, { maxItems: 32 })),
  tags: opt(Type.Array(Label, { maxItems: 32 })),
  metadata: opt(Type.Record(Type.String(), Type.Unknown())),
};

export const CreateKeyBody = Type.Object({
  algorithm: Type.String({ maxLength: 16, description: 'RSA, ECDSA or ED25519' }),
  size: Type.Integer({ description: 'RSA 2048/3072/4096; ECDSA 256/384/521; ED25519 256 (what the engine offers: GET /engines)' }),
  engine_id: opt(Type.String({ maxLength: 128, description: 'absent: the default key engine' })),
  ...Labels,
});

export const ImportKeyBody = Type.Object({
  private_key: Type.String({ maxLength: 65536, description: 'base64 of an unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY), or the PEM itself' }),
  engine_id: opt(Type.String({ maxLength: 128 })),
  ...Labels,
});

export const SignKeyBody = Type.Object({
  algorithm: Type.String({ maxLength: 40, description: 'ECDSA_SHA_256/384/512, RSASSA_PKCS1_V1_5_SHA_256/384/512, RSASSA_PSS_SHA_256/384/512 (salt = hash length), ED25519' }),
  message: Type.String({ maxLength: 1_400_000, description: 'base64' }),
  message_type: Type.String({ maxLength: 8, default: 'raw', description: 'raw: the message itself; hash: its digest under the algorithm\'s hash' }),
});

export const VerifyKeyBody = Type.Object({
  ...SignKeyBody.properties,
  signature: Type.String({ maxLength: 4096, description: 'base64; ECDSA as DER Ecdsa-Sig-Value' }),
});

export const KmsListQuery = Type.Object({
  sort_by: sortByParam(KMS_KEY_SORT_KEYS, KMS_KEY_SORT_ALIASES),
  filter: FilterParam,
  sort_mode: opt(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  page_size: opt(Type.Integer({ minimum: 1, maximum: 1000 })),
  bookmark: opt(Type.String()),
});

export const KmsStatsSchema = Type.Object({
  total: Type.Integer(),
  keys_distribution_per_engine: Type.Record(Type.String(), Type.Integer()),
  keys_distribution_per_algorithm: Type.Record(Type.String(), Type.Integer()),
});
