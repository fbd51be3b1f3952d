/**
 * The cloud proxy's model: connectors (cloud add-ons such as the AWS IoT Core connector) registered in the
 * database, the jobs each works through in order (its backlog), and what it created in its cloud.
 */

export const CONNECTOR_STATUSES = ['CONNECTED', 'DEGRADED', 'DISCONNECTED'] as const;
/**
 * CONNECTED: the last call to the cloud worked. DEGRADED: the cloud answered but refused (an action failed
 * for good, or is retried for an error that may pass). DISCONNECTED: the cloud could not be reached; the
 * backlog grows and drains once it is back.
 */
export type ConnectorStatus = (typeof CONNECTOR_STATUSES)[number];

export interface Connector {
  id: string;
  /** e.g. "AWS_IOT". */
  type: string;
  status: ConnectorStatus;
  /** Why the status is what it is (the last error), null when connected. */
  statusDetail: string | null;
  /** Operator settings of the connector (PUT .../config). */
  config: Record<string, unknown>;
  /** What the connector announced about itself at start (region, endpoints); read only. */
  settings: Record<string, unknown>;
  registeredAt: Date;
  /** Last time a process running it registered it or reported a change of status (not a heartbeat). */
  lastSeenAt: Date;
  /** Last finished synchronization. */
  lastSyncAt: Date | null;
  /** Jobs waiting (or being retried). */
  backlog: number;
  /** Jobs that failed for good. */
  failed: number;
}

/**
 * REGISTER_CA, CA_CONFIG (auto-registration / provisioning template of a registered CA changed), DEACTIVATE_CA,
 * ENROLL, CERT_STATUS, DECOMMISSION, SHADOW, POLICY (a DMS's policy document changed: a new default version), SYNC.
 */
export const JOB_KINDS = ['REGISTER_CA', 'CA_CONFIG', 'DEACTIVATE_CA', 'ENROLL', 'CERT_STATUS', 'DECOMMISSION', 'SHADOW', 'POLICY', 'SYNC'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export type JobStatus = 'PENDING' | 'DONE' | 'FAILED';

export interface NewConnectorJob {
  id: string;
  connectorId: string;
  /** The CloudEvent (or API request) that caused it: with kind and key, what makes a redelivery a no-op. */
  eventId: string;
  kind: JobKind;
  /** What it is about: a CA id, a certificate serial, a device id. */
  key: string;
  /** The device it concerns, when it concerns one. */
  deviceId: string | null;
  payload: Record<string, unknown>;
  createdAt: Date;
}

export interface ConnectorJob extends NewConnectorJob {
  /** Written order; jobs of a connector run in this order. */
  seq: number;
  status: JobStatus;
  attempts: number;
  nextAttemptAt: Date;
  /** Steps already done in the cloud, so a retried job does not do them again. */
  progress: string[];
  lastError: string | null;
  finishedAt: Date | null;
  /** What the job found and did (a synchronization's counts); null when it reports nothing. */
  result: Record<string, unknown> | null;
}

/** Something a connector made in its cloud: a CA, a device certificate (with its thing), a policy. */
export interface CloudResource {
  connectorId: string;
  kind: 'CA' | 'CERTIFICATE' | 'POLICY';
  /** CA id, certificate serial number, or policy name. */
  key: string;
  deviceId: string | null;
  /** The cloud's id and name for it (AWS: certificate id and ARN; thing name). */
  cloudId: string;
  arn: string | null;
  thingName: string | null;
  /** Its status in the cloud, e.g. ACTIVE, INACTIVE, REVOKED. */
  status: string;
  details: Record<string, unknown>;
  updatedAt: Date;
  /**
   * When the connector looks at it again: a superseded certificate waiting for its device to use its successor
   * (or for the grace period to end). Null when nothing is pending.
   */
  recheckAt: Date | null;
}

export interface ConnectorRepository {
  /** Creates the connector or, when it exists, updates its type, settings and last-seen time (config and status stay). */
  register(c: { id: string; type: string; settings: Record<string, unknown>; now: Date }): Promise<void>;
  get(id: string): Promise<Connector | undefined>;
  list(): Promise<Connector[]>;
  setConfig(id: string, config: Record<string, unknown>): Promise<boolean>;
  setStatus(id: string, status: ConnectorStatus, detail: string | null, now: Date): Promise<void>;
  setLastSync(id: string, at: Date): Promise<void>;

  /** Inserts the jobs not already there (same connector, event, kind and key); returns how many were new. */
  enqueue(jobs: NewConnectorJob[]): Promise<number>;
  /** True when a job of this kind (and key, and device, where given) was ever queued for the connector (pending, done or failed). */
  hasJob(connectorId: string, kind: JobKind, match: { key?: string; deviceId?: string }): Promise<boolean>;
  /** The oldest pending job of the connector, due or not. */
  headJob(connectorId: string): Promise<ConnectorJob | undefined>;
  /** Records a step done in the cloud. */
  addProgress(jobId: string, step: string): Promise<void>;
  finishJob(jobId: string, outcome: { status: 'DONE' | 'FAILED'; at: Date; error: string | null }): Promise<void>;
  retryJob(jobId: string, outcome: { at: Date; nextAttemptAt: Date; error: string }): Promise<void>;
  listJobs(connectorId: string, filter: { deviceId?: string; key?: string; kind?: JobKind; limit: number }): Promise<ConnectorJob[]>;
  getJob(connectorId: string, jobId: string): Promise<ConnectorJob | undefined>;
  /** Replaces what the job reports (kept as it goes, so a retried job carries on counting). */
  setJobResult(jobId: string, result: Record<string, unknown>): Promise<void>;

  putResource(r: CloudResource): Promise<void>;
  getResource(connectorId: string, kind: CloudResource['kind'], key: string): Promise<CloudResource | undefined>;
  resourcesOfDevice(connectorId: string, deviceId: string): Promise<CloudResource[]>;
  listResources(connectorId: string, kind: CloudResource['kind']): Promise<CloudResource[]>;
  /** Resources whose recheck time is at or before `at`, soonest first. */
  resourcesToRecheck(connectorId: string, at: Date, limit: number): Promise<CloudResource[]>;
}
