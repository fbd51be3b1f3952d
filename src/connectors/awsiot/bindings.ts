/**
 * Which CAs and DMSs a connector serves, and how: the metadata key `lamassu.io/iot/<connector id>` of a CA or
 * DMS, as in Lamassu. Parsing is lenient about what it does not use and strict about what it does.
 *
 * CA:  { "register": true, "mode": "DEFAULT" | "SNI_ONLY", "auto_registration": false,
 *        "provisioning": { "template_body": {...} | "{...}", "role_arn": "arn:aws:iam::...:role/..." }
 *                      | { "template_name": "...", "role_arn": "..." (optional) } }
 *      or Lamassu's { "registration": { "status": "REQUESTED", "primary_account": true } } (primary: DEFAULT)
 *      A `provisioning` block (AWS's just-in-time provisioning template) turns auto-registration on unless
 *      `auto_registration` is false.
 * DMS: { "registration_mode": "auto" | "none", "groups": ["..."],
 *        "policies": [{ "policy_name": "...", "policy_document": "{...}" }], "shadow": { "enable": true, "name": "lamassu" } }
 *
 * Also how what Lamassu holds is put in AWS terms (a CA's binding as its resource records it, a certificate's
 * status, a device's thing attributes), for both the connector's jobs and its synchronization.
 */
import { createHash } from 'node:crypto';
import type { CloudResource } from '../../domain/cloud/connector.ts';
import type { AwsCertificateStatus, AwsRegistrationConfig } from './aws-iot-api.ts';

export const iotMetadataKey = (connectorId: string) => `lamassu.io/iot/${connectorId}`;

/** AWS's RegistrationConfig of a CA: the JITP template (its body, or the name of a JITP provisioning template) and the role AWS provisions with. */
export interface ProvisioningConfig {
  templateBody?: string;
  templateName?: string;
  roleArn?: string;
}

export interface CaBinding {
  mode: 'DEFAULT' | 'SNI_ONLY';
  autoRegistration: boolean;
  /** Absent (or null in jobs queued before it existed): no provisioning template. */
  provisioning?: ProvisioningConfig | null;
}

export interface DmsBinding {
  groups: string[];
  policies: { name: string; document: string | null }[];
  shadowName: string;
  shadowEnabled: boolean;
}

/** A non-empty string, or undefined: job payloads and resource details are untyped JSON. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** How a policy document is recorded on its resource (`document_sha256`), to tell whether it changed. */
export const documentSha256 = (document: string) => createHash('sha256').update(document).digest('hex');
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
  const provisioning = provisioningConfig(m.provisioning);
  const autoRegistration = m.auto_registration === true || (m.auto_registration !== false && provisioning !== null);
  return { mode, autoRegistration, provisioning };
}

/** The `provisioning` block as AWS's RegistrationConfig, or null when it gives no template. */
function provisioningConfig(v: unknown): ProvisioningConfig | null {
  const p = obj(v);
  if (!p) return null;
  const body = typeof p.template_body === 'string' ? p.template_body : obj(p.template_body) ? JSON.stringify(p.template_body) : undefined;
  const name = typeof p.template_name === 'string' && p.template_name !== '' ? p.template_name : undefined;
  if (body === undefined && name === undefined) return null;
  return {
    ...(body !== undefined ? { templateBody: body } : {}),
    ...(name !== undefined ? { templateName: name } : {}),
    ...(typeof p.role_arn === 'string' && p.role_arn !== '' ? { roleArn: p.role_arn } : {}),
  };
}

/** Why AWS would refuse this provisioning configuration, or undefined when it is complete. */
export function provisioningProblem(p: ProvisioningConfig | null | undefined): string | undefined {
  if (!p) return undefined;
  if (p.templateBody !== undefined && p.templateName !== undefined) return 'provisioning: give template_body or template_name, not both';
  if (p.templateBody !== undefined) {
    if (!p.roleArn) return 'provisioning: template_body needs role_arn (the IAM role AWS provisions devices with)';
    try {
      const t = JSON.parse(p.templateBody) as unknown;
      if (!obj(t) || !obj((t as Record<string, unknown>).Resources)) return 'provisioning: template_body must be a JSON object with "Resources"';
    } catch {
      return 'provisioning: template_body is not JSON';
    }
  }
  if (p.roleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(p.roleArn)) return `provisioning: role_arn "${p.roleArn}" is not an IAM role ARN`;
  return undefined;
}

/** True when two bindings ask AWS for the same auto-registration and provisioning template. */
export function sameCaConfig(a: CaBinding | undefined, b: CaBinding | undefined): boolean {
  if (!a || !b) return a === b;
  return a.autoRegistration === b.autoRegistration && sameProvisioning(a.provisioning ?? null, b.provisioning ?? null);
}

/** AWS's RegistrationConfig for a binding (undefined when it gives no template). */
export const registrationConfigOf = (b: CaBinding): AwsRegistrationConfig | undefined => b.provisioning ?? undefined;

/** How a CA's binding is recorded on its resource, to compare with a later binding. */
export const caDetails = (b: CaBinding) => ({ mode: b.mode, auto_registration: b.autoRegistration, provisioning: b.provisioning ?? null });
export const recordedBinding = (res: CloudResource): CaBinding => ({
  mode: res.details.mode === 'SNI_ONLY' ? 'SNI_ONLY' : 'DEFAULT',
  autoRegistration: res.details.auto_registration === true,
  provisioning: (res.details.provisioning as CaBinding['provisioning']) ?? null,
});

export function sameProvisioning(a: ProvisioningConfig | null, b: ProvisioningConfig | null): boolean {
  if (!a || !b) return a === b;
  return sameJsonText(a.templateBody, b.templateBody) && (a.templateName ?? null) === (b.templateName ?? null) && (a.roleArn ?? null) === (b.roleArn ?? null);
}

/** Two JSON documents (policy, template) equal once parsed: AWS may give back a document re-formatted. */
export function sameJsonText(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
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

/** The AWS status that mirrors ours, or undefined when AWS has nothing to follow (expiry is AWS's own check). */
export function awsStatusFor(status: string, reason: string | null): AwsCertificateStatus | undefined {
  if (status === 'REVOKED') return reason === 'CertificateHold' ? 'INACTIVE' : 'REVOKED';
  if (status === 'ACTIVE' || status === 'ABOUT_TO_EXPIRE') return 'ACTIVE';
  return undefined;
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
