/** The parts of the API's JSON the CLI reads (the server sends more; --json prints all of it). */
export type Subject = Record<string, string | undefined>;

export interface CertificateJson {
  serial_number: string;
  certificate: string;
  status: string;
  valid_from: string;
  valid_to: string;
  subject: Subject;
  issuer: Subject;
  issuer_metadata: { id: string | null };
  key_metadata: { type: string; bits: number };
  is_ca: boolean;
  revocation_reason: string | null;
  revocation_timestamp: string | null;
  private_key?: string;
}

export interface CaJson {
  id: string;
  type: string;
  parent_id: string | null;
  level: number;
  engine_id: string | null;
  internal: boolean;
  profile_id: string | null;
  certificate: CertificateJson;
}

export interface ProfileJson {
  id: string;
  name: string;
  description: string;
  validity: { type: string; duration?: string; time?: string };
  sign_as_ca: boolean;
  key_usage: string[];
  extended_key_usages: string[];
}

export interface DmsJson {
  id: string;
  name: string;
  creation_ts?: string;
  settings: {
    enrollment_settings: { enrollment_ca: string; registration_mode: string; est_rfc7030_settings: { auth_mode: string } };
  };
  authorized_cas?: string[];
}

export interface DeviceJson {
  id: string;
  alias: string | null;
  status: string;
  dms_owner: string | null;
  tags: string[];
  creation_timestamp: string;
  identity: { status: string; active: { serial_number: string; valid_to: string; status: string } } | null;
  slots: Record<string, unknown>;
}

/** The API's certificate field is base64 of the PEM. */
export const pemOf = (base64Pem: string) => Buffer.from(base64Pem, 'base64').toString('utf8');
