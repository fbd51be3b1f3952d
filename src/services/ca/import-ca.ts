import type { CaRecord, CertificateAuthority } from '../../domain/ca/ca.ts';
import { verifyCertificateSignature, type ParsedCertificate } from '../../x509/certificate.ts';
import { spkiOfPkcs8 } from '../../x509/public-key.ts';
import { checkCaIdNotRetired } from './delete-ca.ts';
import { conflict, invalid } from '../../domain/errors.ts';
import { fromPem, isPem } from '../../x509/pem.ts';
import { CaEventType } from './ca-events.ts';
import { storeNewCa } from './store-new-ca.ts';
import type { CaServiceDeps } from './ca-service-deps.ts';
import { checkCaId } from './create-ca.ts';
import { resolveEngine } from './engine-signer.ts';
import { getCa } from './get-ca.ts';
import { certificateFromDer, findIssuerCa, readCertificateInput } from './certificate-from-der.ts';
import type { IssuingCaCache } from './issuing-ca-cache.ts';

export interface ImportCaInput {
  id?: string;
  /** The CA certificate: PEM, base64 DER or DER. */
  certificate: string | Uint8Array;
  /** PKCS#8 PEM ("PRIVATE KEY") or DER; absent: the CA is tracked and cannot sign. */
  privateKey?: string | Uint8Array;
  engineId?: string;
  /** Absent: found by the certificate's authority key identifier among our CAs. */
  parentId?: string;
  profileId?: string;
  aboutToExpireMs?: number;
  metadata?: Record<string, unknown>;
  /**
   * Lamassu's ca_chain: the CA certificate's issuers, its direct issuer first or the root first (PEM, base64 or DER). Each must
   * have signed the one before; issuers we do not hold yet are imported first (without key), so that the CA
   * lands under its real parent.
   */
  chain?: (string | Uint8Array)[];
  /** Lamassu's ca_type: IMPORTED / MANAGED (need the key) or EXTERNAL (without key), also our type names. */
  caType?: string;
  actor: string;
}

/** Longest ca_chain taken. */
export const MAX_CA_CHAIN = 16;

/** Lamassu's ca_type (and ours) to whether the import carries the private key. */
const CA_TYPE_WITH_KEY: Record<string, boolean> = {
  IMPORTED: true,
  IMPORTED_WITH_KEY: true,
  MANAGED: true,
  EXTERNAL: false,
  IMPORTED_WITHOUT_KEY: false,
};

function checkCaType(caType: string | undefined, withKey: boolean): void {
  if (caType === undefined || caType === '') return;
  const wants = CA_TYPE_WITH_KEY[caType.toUpperCase()];
  if (wants === undefined) throw invalid('CA_TYPE_INVALID', `ca_type must be one of ${Object.keys(CA_TYPE_WITH_KEY).join(', ')}`, { caType });
  if (wants !== withKey) {
    throw invalid('CA_TYPE_MISMATCH', wants ? `ca_type ${caType} imports a CA with its private key: private_key is required` : `ca_type ${caType} imports a CA without key: leave out private_key`, { caType });
  }
}

/** The chain parsed and checked: every certificate a CA certificate that signed the one before it. */
function checkedChain(leaf: ParsedCertificate, chain: (string | Uint8Array)[]): ParsedCertificate[] {
  if (chain.length > MAX_CA_CHAIN) throw invalid('CA_CHAIN_INVALID', `ca_chain holds at most ${MAX_CA_CHAIN} certificates`);
  let parsed = chain.map((c) => readCertificateInput(c));
  // Lamassu's Go input sorts the chain root first; its JSON clients send either: the CA's issuer goes first.
  if (parsed.length > 1 && !signedBy(leaf, parsed[0]!) && signedBy(leaf, parsed.at(-1)!)) parsed = parsed.reverse();
  let child = leaf;
  parsed.forEach((issuer, i) => {
    if (!issuer.basicConstraints?.ca) throw invalid('CA_CHAIN_INVALID', `ca_chain[${i}] is not a CA certificate`, { index: i });
    if (!signedBy(child, issuer)) throw invalid('CA_CHAIN_INVALID', `ca_chain[${i}] did not issue ${i === 0 ? 'the CA certificate' : `ca_chain[${i - 1}]`}`, { index: i });
    child = issuer;
  });
  return parsed;
}

const signedBy = (child: ParsedCertificate, issuer: ParsedCertificate) =>
  Buffer.compare(Buffer.from(issuer.subjectName), Buffer.from(child.issuerName)) === 0 && verifyCertificateSignature(child, issuer.publicKey);

/** Our CA whose certificate is exactly `cert`, found through the certificate it issued (`child`). */
async function heldCa(deps: CaServiceDeps, child: ParsedCertificate, cert: ParsedCertificate): Promise<CertificateAuthority | undefined> {
  const found = await findIssuerCa(deps, child);
  return found && Buffer.compare(Buffer.from(found.certificate.der), Buffer.from(cert.der)) === 0 ? found : undefined;
}


function pkcs8Of(input: string | Uint8Array): Uint8Array {
  if (typeof input !== 'string') return input;
  if (isPem(input)) {
    const der = fromPem(input, 'PRIVATE KEY');
    if (!der) throw invalid('PRIVATE_KEY_INVALID', 'the private key must be an unencrypted PKCS#8 PEM block (BEGIN PRIVATE KEY)');
    return der;
  }
  return new Uint8Array(Buffer.from(input, 'base64'));
}

/**
 * Imports an existing CA. With its key, the key goes into an engine (and must match the certificate);
 * without, the CA is tracked (its status, its certificates) but cannot sign.
 */
export async function importCa(deps: CaServiceDeps, cache: IssuingCaCache, input: ImportCaInput): Promise<CertificateAuthority> {
  const parsed = readCertificateInput(input.certificate);
  if (!parsed.basicConstraints?.ca) throw invalid('CA_CERTIFICATE_NOT_CA', 'the certificate is not a CA certificate (basicConstraints CA:TRUE)');
  const id = checkCaId(input.id ?? deps.random.uuid());
  // EST labels name a DMS or a CA: the two id spaces never meet (the DMS manager checks the other way).
  if (await deps.storage.dms.get(id)) throw conflict('CA_EXISTS', `"${id}" is already the id of a DMS`, { id });
  if (!(await deps.storage.cas.get(id))) await checkCaIdNotRetired(deps, id);
  checkCaType(input.caType, input.privateKey !== undefined);
  if (input.profileId !== undefined) await cache.profile(input.profileId);
  let parent = input.parentId !== undefined ? await getCa(deps, input.parentId) : undefined;
  if (input.chain && input.chain.length > 0) {
    const chain = checkedChain(parsed, input.chain);
    if (parent) {
      if (Buffer.compare(Buffer.from(parent.certificate.der), Buffer.from(chain[0]!.der)) !== 0) {
        throw invalid('CA_CHAIN_INVALID', `ca_chain[0] is not the certificate of parent_id "${parent.id}"`, { index: 0 });
      }
    } else {
      // The issuers we do not hold go in first, without key (nothing is stored when the CA itself is refused).
      if (input.privateKey !== undefined) {
        resolveEngine(deps, input.engineId);
        const spki = spkiOfPkcs8(pkcs8Of(input.privateKey));
        if (spki && Buffer.compare(Buffer.from(spki), Buffer.from(parsed.publicKey.spki)) !== 0) throw invalid('CA_KEY_MISMATCH', 'the private key does not belong to the certificate');
      }
      if (await deps.storage.cas.get(id)) throw conflict('CA_EXISTS', `a CA with id "${id}" already exists`, { id });
      let known = chain.length;
      let above: CertificateAuthority | undefined;
      for (let i = 0; i < chain.length; i++) {
        above = await heldCa(deps, i === 0 ? parsed : chain[i - 1]!, chain[i]!);
        if (above) {
          known = i;
          break;
        }
      }
      for (let i = known - 1; i >= 0; i--) {
        above = await importCa(deps, cache, { certificate: chain[i]!.der, ...(above ? { parentId: above.id } : {}), actor: input.actor });
      }
      parent = above;
    }
  }
  parent ??= await findIssuerCa(deps, parsed);
  const selfSigned = Buffer.compare(Buffer.from(parsed.issuerName), Buffer.from(parsed.subjectName)) === 0;

  const engine = input.privateKey !== undefined ? resolveEngine(deps, input.engineId) : undefined;
  const key = engine ? await engine.importKey({ pkcs8: pkcs8Of(input.privateKey!), label: `ca-${id}` }) : undefined;
  try {
    if (key && Buffer.compare(Buffer.from(key.publicKeySpki), Buffer.from(parsed.publicKey.spki)) !== 0) {
      throw invalid('CA_KEY_MISMATCH', 'the private key does not belong to the certificate');
    }
    const now = deps.clock.now();
    const cert = certificateFromDer(deps, parsed, {
      issuerCaId: parent?.id ?? (selfSigned ? id : null),
      caId: id,
      type: key ? 'IMPORTED_WITH_KEY' : 'IMPORTED_WITHOUT_KEY',
      engineId: engine?.id ?? null,
      aboutToExpireMs: input.aboutToExpireMs ?? deps.settings.aboutToExpireMs,
      metadata: {},
    });
    const record: CaRecord = {
      id,
      certificateId: cert.id,
      parentId: parent?.id ?? null,
      level: parent ? parent.level + 1 : 0,
      type: key ? 'IMPORTED_WITH_KEY' : 'IMPORTED_WITHOUT_KEY',
      engineId: engine && key ? engine.id : null,
      keyId: key?.id ?? null,
      internal: false,
      profileId: input.profileId ?? null,
      aboutToExpireMs: input.aboutToExpireMs ?? null,
      metadata: input.metadata ?? {},
      createdAt: now,
    };
    return await storeNewCa(deps, cert, record, CaEventType.caImport, input.actor);
  } catch (err) {
    if (engine && key) await engine.deleteKey(key.id).catch(() => undefined);
    throw err;
  }
}
