import { invalid } from '../errors.ts';

/**
 * A connector's operator settings (PUT /api/cloudproxy/v1/connectors/{id}/config): `enabled` (false pauses it:
 * events still queue jobs, nothing goes to the cloud) and `shadow_name` (the named shadow used to talk to
 * devices, default "lamassu"). What a CA or DMS should do in the cloud is in their metadata, not here.
 */
export function parseConnectorConfig(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('CONNECTOR_CONFIG_INVALID', 'the configuration must be a JSON object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === 'enabled') {
      if (typeof v !== 'boolean') throw invalid('CONNECTOR_CONFIG_INVALID', 'enabled must be true or false');
      out.enabled = v;
    } else if (k === 'shadow_name') {
      if (typeof v !== 'string' || !/^[a-zA-Z0-9:_-]{1,64}$/.test(v)) throw invalid('CONNECTOR_CONFIG_INVALID', 'shadow_name must be 1 to 64 letters, digits, ":", "_" or "-"');
      out.shadow_name = v;
    } else {
      throw invalid('CONNECTOR_CONFIG_INVALID', `unknown setting "${k}" (known: enabled, shadow_name)`);
    }
  }
  return out;
}
