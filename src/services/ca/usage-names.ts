import {
  EXTENDED_KEY_USAGES,
  KEY_USAGES,
  type ExtendedKeyUsage,
  type KeyUsage as LamassuKeyUsage,
} from '../../domain/ca/issuance-profile.ts';
import { EXTENDED_KEY_USAGES as X509_EKUS, KEY_USAGES as X509_KEY_USAGES, type KeyUsage } from '../../x509/extensions.ts';

/** Lamassu spells key usages like Go ("CertSign"), the encoder like RFC 5280 ("keyCertSign"); both index by bit. */
export const toX509KeyUsage = (ku: LamassuKeyUsage): KeyUsage => X509_KEY_USAGES[KEY_USAGES.indexOf(ku)]!;
export const fromX509KeyUsage = (ku: KeyUsage): LamassuKeyUsage => KEY_USAGES[X509_KEY_USAGES.indexOf(ku)]!;

/** The encoder takes dotted OIDs, so Lamassu's names go through their OIDs. */
export const toX509Eku = (eku: ExtendedKeyUsage): string => EXTENDED_KEY_USAGES[eku];

const LAMASSU_EKU_BY_OID = new Map<string, string>(Object.entries(EXTENDED_KEY_USAGES).map(([name, oid]) => [oid, name]));
const X509_EKU_OIDS = X509_EKUS as Record<string, string>;
/** A decoded EKU (encoder name or dotted OID) in Lamassu's spelling; unknown purposes stay dotted OIDs. */
export function fromX509Eku(eku: string): string {
  const oid = X509_EKU_OIDS[eku] ?? eku;
  return LAMASSU_EKU_BY_OID.get(oid) ?? oid;
}
