/**
 * Types of API bodies, taken from the generated schema. Devices and DMS answers carry no response schema
 * in the OpenAPI document yet, so theirs are written here after src/http/devices/device-routes.ts and
 * src/http/dms/dms-json.ts (the DMS one reuses the generated create body).
 */
import type { paths } from './schema';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

export type Ca = Json<paths['/api/ca/v1/cas/{id}']['get']['responses'][200]>;
export type Certificate = Json<paths['/api/ca/v1/certificates/{serial}']['get']['responses'][200]>;
export type CaCreate = Json<paths['/api/ca/v1/cas']['post']['requestBody']>;
export type DmsCreate = Json<paths['/api/dmsmanager/v1/dms']['post']['requestBody']>;
export type Profile = Json<paths['/api/ca/v1/profiles/{id}']['get']['responses'][200]>;

export type Dms = DmsCreate & {
  creation_ts: string;
  update_ts: string;
  certificate: { serial_number: string; issuer_ca_id: string } | null;
};

export interface SlotCertificate {
  version: number;
  serial_number: string;
  issuer_ca_id: string;
  status: string;
  valid_from: string;
  valid_to: string;
  bound_at: string;
  superseded_at: string | null;
}

export interface Slot {
  status: string;
  active_version: number;
  active: SlotCertificate;
  archive: SlotCertificate[];
}

export interface Device {
  id: string;
  alias: string;
  tags: string[];
  metadata: Record<string, unknown>;
  dms_owner: string | null;
  status: string;
  creation_timestamp: string;
  update_timestamp: string;
  slots: Record<string, Slot>;
}

export interface DeviceEvent {
  timestamp: string;
  type: string;
  description: string;
  actor: string;
}

export interface Page<T> {
  list: T[];
  next: string | null;
}

/** The alerts API answers without response schemas; shapes after src/http/alerts/alerts-routes.ts. */
export interface LatestEvent {
  event_types: string;
  event: { id: string; type: string; source?: string; subject?: string; time?: string; actor?: string; data?: unknown };
  seen_at: string;
  counter: number;
}

export interface AlertCondition {
  type: 'JSON-PATH' | 'JSON-SCHEMA';
  condition: string;
}

export interface Subscription {
  id: string;
  user_id: string;
  subscription_ts: string;
  event_type: string;
  conditions: AlertCondition[];
  condition_mode: 'any' | 'all';
  channel: { type: 'EMAIL' | 'WEBHOOK' | 'MSTEAMS'; name?: string; config: Record<string, unknown> };
}

export interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  channel_type: string;
  status: 'pending' | 'sending' | 'delivered' | 'failed';
  attempts: number;
  created_at: string;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  last_error: string | null;
}
