/**
 * Which CAs and DMSs a connector serves, and how: the metadata key `lamassu.io/iot/<connector id>` of a CA or
 * DMS, as in Lamassu. Parsing is lenient about what it does not use and strict about what it does.
 *
 * CA:  { "register": true, "mode": "DEFAULT" | "SNI_ONLY", "auto_registration": false }
 *      or Lamassu's { "registration": { "status": "REQUESTED", "primary_account": true } } (primary: DEFAULT)
 * DMS: { "registration_mode": "auto" | "none", "groups": ["..."],
 *        "policies": [{ "policy_name": "...", "policy_document": "{...}" }], "shadow": { "enable": true, "name": "lamassu" } }
 */

export const iotMetadataKey = (connectorId: string) => `lamassu.io/iot/${connectorId}`;

export interface CaBinding {
  mode: 'DEFAULT' | 'SNI_ONLY';
  autoRegistration: boolean;
}

export interface DmsBinding {
  groups: string[];
  policies: { name: string; document: string | null }[];
  shadowName: string;
  shadowEnabled: boolean;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const AWS_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** The CA's registration request, or undefined when it asks for none. */
export function caBinding(metadata: Record<string, unknown>, connectorId: string): CaBinding | undefined {
  const m = obj(metadata[iotMetadataKey(connectorId)]);
  if (!m) return undefined;
  const lamassu = obj(m.registration);
  const requested = m.register === true || (lamassu !== undefined && lamassu.status !== undefined && lamassu.status !== 'NONE');
  if (!requested) return undefined;
  const mode = m.mode === 'SNI_ONLY' || lamassu?.primary_account === false ? 'SNI_ONLY' : 'DEFAULT';
  return { mode, autoRegistration: m.auto_registration === true };
}

/** The DMS's binding, or undefined when devices enrolled through it are not put in AWS. */
export function dmsBinding(metadata: Record<string, unknown>, connectorId: string, defaultShadowName: string): DmsBinding | undefined {
  const m = obj(metadata[iotMetadataKey(connectorId)]);
  if (!m) return undefined;
  const mode = m.registration_mode ?? 'auto';
  if (mode === 'none' || mode === false) return undefined;
  const groups = (Array.isArray(m.groups) ? m.groups : Array.isArray(m.thing_groups) ? m.thing_groups : []).filter((g): g is string => typeof g === 'string' && AWS_NAME.test(g));
  const policies = (Array.isArray(m.policies) ? m.policies : [])
    .map((p) => (typeof p === 'string' ? { policy_name: p } : obj(p)))
    .filter((p): p is Record<string, unknown> => !!p && typeof p.policy_name === 'string' && /^[\w+=,.@-]{1,128}$/.test(p.policy_name))
    .map((p) => ({ name: p.policy_name as string, document: typeof p.policy_document === 'string' ? p.policy_document : p.policy_document && typeof p.policy_document === 'object' ? JSON.stringify(p.policy_document) : null }));
  const shadow = obj(m.shadow) ?? obj(m.shadow_config);
  const shadowName = typeof shadow?.name === 'string' ? shadow.name : typeof shadow?.shadow_name === 'string' ? shadow.shadow_name : defaultShadowName;
  return { groups, policies, shadowName, shadowEnabled: shadow?.enable !== false };
}

const ATTR_KEY = /^[a-zA-Z0-9_.,@/:#-]{1,128}$/;
const ATTR_VALUE = /^[a-zA-Z0-9_.,@/:#=[\]-]{0,800}$/;

/**
 * Thing attributes from device metadata: string, number and boolean values whose key and value AWS
 * accepts (others are left out, never sent to fail the call); at most 50, AWS's limit.
 */
export function thingAttributes(metadata: Record<string, unknown>, extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...extra };
  for (const [k, v] of Object.entries(metadata)) {
    if (Object.keys(out).length >= 50) break;
    if (!['string', 'number', 'boolean'].includes(typeof v)) continue;
    const value = String(v);
    if (ATTR_KEY.test(k) && ATTR_VALUE.test(value)) out[k] = value;
  }
  return out;
}

/** AWS thing names: [a-zA-Z0-9:_-]{1,128}; a device id outside that is refused rather than mangled. */
export const validThingName = (name: string) => AWS_NAME.test(name);
