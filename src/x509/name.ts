import type { Subject } from '../domain/ca/subject.ts';
import { invalid } from '../domain/errors.ts';
import { children, decodeOid, decodeString, DerError, StringTag, expectTag, oid, printableString, readRoot, sequence, set, Tag, utf8String, valueOf } from './der.ts';

/** The subject fields the API exposes (Lamassu's names): the domain's Subject. */
export type SubjectFields = Subject;

/** One attribute of a Name, in order; `type` is the dotted OID. */
export interface NameAttribute {
  type: string;
  value: string;
}

export interface DecodedName {
  /** First value of each known attribute. */
  fields: SubjectFields;
  /** Every attribute, in DER order (RDNs flattened). */
  attributes: NameAttribute[];
}

const FIELD_OIDS: [keyof SubjectFields, string][] = [
  ['country', '2.5.4.6'],
  ['state', '2.5.4.8'],
  ['locality', '2.5.4.7'],
  ['organization', '2.5.4.10'],
  ['organization_unit', '2.5.4.11'],
  ['common_name', '2.5.4.3'],
  ['serial_number', '2.5.4.5'],
];
const FIELD_BY_OID = new Map(FIELD_OIDS.map(([f, o]) => [o, f]));
const STRING_TAGS = new Set<number>(Object.values(StringTag));
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * Encodes a Name from subject fields, one attribute per RDN in the order C, ST, L, O, OU, CN, serialNumber.
 * countryName and serialNumber are PrintableString as RFC 5280 (appendix A) requires; the rest UTF8String.
 * Throws SUBJECT_INVALID for a country that is not two letters or a serial number outside PrintableString.
 */
export function buildName(subject: SubjectFields): Uint8Array {
  const rdns: Uint8Array[] = [];
  for (const [field, type] of FIELD_OIDS) {
    const value = subject[field];
    if (value === undefined || value === '') continue;
    let encoded: Uint8Array;
    if (field === 'country') {
      if (!/^[A-Za-z]{2}$/.test(value)) throw invalid('SUBJECT_INVALID', 'country must be a two-letter code', { field });
      encoded = printableString(value);
    } else if (field === 'serial_number') {
      if (!PRINTABLE.test(value)) throw invalid('SUBJECT_INVALID', 'serial_number must use PrintableString characters', { field });
      encoded = printableString(value);
    } else encoded = utf8String(value);
    rdns.push(set(sequence(oid(type), encoded)));
  }
  return sequence(...rdns);
}

/** Decodes a Name DER (strict structure; string types as found). Throws DerError when malformed. */
export function decodeName(der: Uint8Array): DecodedName {
  const root = expectTag(readRoot(der), Tag.SEQUENCE, 'Name');
  const fields: SubjectFields = {};
  const attributes: NameAttribute[] = [];
  for (const rdn of children(der, root)) {
    const atvs = children(der, expectTag(rdn, Tag.SET, 'RelativeDistinguishedName'));
    if (atvs.length === 0) throw new DerError('empty RDN');
    for (const atv of atvs) {
      const [typeNode, valueNode, extra] = children(der, expectTag(atv, Tag.SEQUENCE, 'AttributeTypeAndValue'));
      if (!valueNode || extra) throw new DerError('bad AttributeTypeAndValue');
      const type = decodeOid(valueOf(der, expectTag(typeNode, Tag.OID, 'attribute type')));
      // RFC 4514: a value that is not a string is shown as '#' and the hex of its DER.
      const value = STRING_TAGS.has(valueNode.tag)
        ? decodeString(der, valueNode)
        : `#${Buffer.from(der.subarray(valueNode.start, valueNode.end)).toString('hex')}`;
      // A NUL hides the rest of a name from C-string readers (the null-prefix trick), and PostgreSQL cannot store it.
      if (value.includes('\u0000')) throw new DerError('a name attribute contains a NUL character');
      attributes.push({ type, value });
      const field = FIELD_BY_OID.get(type);
      if (field && fields[field] === undefined) fields[field] = value;
    }
  }
  return { fields, attributes };
}
