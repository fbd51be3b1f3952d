/**
 * The calls the AWS IoT Core connector makes, in its own terms: one method per AWS API action it uses.
 * `AwsSdkIotApi` implements it with the AWS SDK v3; the connector's logic only sees this interface.
 */

/** Why a call failed, for what to do next: retry later (the cloud may come back) or give up on the job. */
export type AwsFailureKind =
  /** AWS could not be reached (connection refused, timeout, DNS): the connector is DISCONNECTED. */
  | 'unreachable'
  /** AWS answered with an error that may pass (5xx, throttling, credentials not available yet). */
  | 'transient'
  /** AWS refused the request for good (validation, not found, access denied): retrying cannot help. */
  | 'permanent';

export class AwsCallError extends Error {
  constructor(
    readonly kind: AwsFailureKind,
    readonly action: string,
    /** AWS's error name, e.g. ResourceNotFoundException; the network error code when unreachable. */
    readonly awsCode: string,
    message: string,
  ) {
    super(`${action}: ${awsCode}: ${message}`);
    this.name = 'AwsCallError';
  }
}

export type AwsCertificateStatus = 'ACTIVE' | 'INACTIVE' | 'REVOKED';

export interface RegisteredCertificate {
  certificateId: string;
  certificateArn: string;
  /** True when AWS already had it (a repeated registration). */
  existed: boolean;
}

/** AWS's RegistrationConfig: the just-in-time provisioning template of a CA. */
export interface AwsRegistrationConfig {
  templateBody?: string;
  templateName?: string;
  roleArn?: string;
}

export interface AwsCaDescription {
  status: string;
  autoRegistrationStatus: 'ENABLE' | 'DISABLE' | null;
  registrationConfig: AwsRegistrationConfig | null;
  mode: string | null;
}

export interface AwsCertificateDescription {
  status: string;
  caCertificateId: string | null;
}

export interface AwsPolicyVersion {
  versionId: string;
  isDefault: boolean;
  createdAt: Date | null;
}

export interface AwsIotApi {
  getRegistrationCode(): Promise<string>;
  /** `verificationCertificatePem` absent: SNI_ONLY mode (no proof of possession; AWS accounts may share the CA). */
  registerCaCertificate(input: { caCertificatePem: string; verificationCertificatePem?: string; allowAutoRegistration: boolean; registrationConfig?: AwsRegistrationConfig }): Promise<RegisteredCertificate>;
  updateCaCertificate(input: { certificateId: string; newStatus?: 'ACTIVE' | 'INACTIVE'; newAutoRegistrationStatus?: 'ENABLE' | 'DISABLE'; registrationConfig?: AwsRegistrationConfig }): Promise<void>;
  /** Undefined when AWS has no such CA certificate. */
  describeCaCertificate(certificateId: string): Promise<AwsCaDescription | undefined>;
  /** Undefined when AWS has no such certificate. */
  describeCertificate(certificateId: string): Promise<AwsCertificateDescription | undefined>;
  /** Thing attributes: AWS's limits apply (at most 50; keys and values of its allowed characters). */
  createThing(input: { thingName: string; attributes: Record<string, string> }): Promise<{ thingArn: string | null; existed: boolean }>;
  /** With the CA (registered in DEFAULT mode) or without (SNI_ONLY, or a CA not registered). */
  registerCertificate(input: { certificatePem: string; caCertificatePem?: string; status: AwsCertificateStatus }): Promise<RegisteredCertificate>;
  updateCertificate(input: { certificateId: string; newStatus: AwsCertificateStatus }): Promise<void>;
  /** Creates the policy; an existing one is left as it is (no error). */
  createPolicy(input: { policyName: string; policyDocument: string }): Promise<void>;
  /** The policy's default version; undefined when there is no such policy. */
  getPolicy(policyName: string): Promise<{ document: string; defaultVersionId: string } | undefined>;
  listPolicyVersions(policyName: string): Promise<AwsPolicyVersion[]>;
  /** A new version, made the default; answers its id. */
  createPolicyVersion(input: { policyName: string; policyDocument: string }): Promise<string>;
  /** An absent version counts as deleted. */
  deletePolicyVersion(input: { policyName: string; versionId: string }): Promise<void>;
  attachPolicy(input: { policyName: string; target: string }): Promise<void>;
  attachThingPrincipal(input: { thingName: string; principal: string }): Promise<void>;
  detachThingPrincipal(input: { thingName: string; principal: string }): Promise<void>;
  createThingGroup(input: { thingGroupName: string }): Promise<void>;
  addThingToThingGroup(input: { thingGroupName: string; thingName: string }): Promise<void>;
  describeThing(thingName: string): Promise<Record<string, unknown> | undefined>;
  listThingPrincipals(thingName: string): Promise<string[]>;
  /** The account's device endpoint (iot:Data-ATS), for MQTT and the data plane. */
  dataEndpoint(): Promise<string>;
  updateThingShadow(input: { thingName: string; shadowName: string; payload: unknown }): Promise<void>;
  /** Undefined when the thing has no such shadow. */
  getThingShadow(input: { thingName: string; shadowName: string }): Promise<Record<string, unknown> | undefined>;
}
