/**
 * AwsIotApi over the AWS SDK v3 (@aws-sdk/client-iot and @aws-sdk/client-iot-data-plane): the standard
 * credential chain, the region and endpoints from our settings or the SDK's own (AWS_REGION,
 * AWS_ENDPOINT_URL_IOT, AWS_ENDPOINT_URL_IOT_DATA_PLANE). The SDK makes one attempt per call: retries are the
 * connector's (its backlog survives restarts), not the SDK's.
 */
import { createHash } from 'node:crypto';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  DetachThingPrincipalCommand,
  GetPolicyCommand,
  GetRegistrationCodeCommand,
  IoTClient,
  ListPolicyVersionsCommand,
  ListThingPrincipalsCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCACertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import {
  AwsCallError,
  type AwsCaDescription,
  type AwsCertificateDescription,
  type AwsFailureKind,
  type AwsIotApi,
  type AwsPolicyVersion,
  type AwsRegistrationConfig,
  type RegisteredCertificate,
} from './aws-iot-api.ts';

export interface AwsSdkIotApiOptions {
  region?: string;
  iotEndpoint?: string;
  iotDataEndpoint?: string;
  requestTimeoutMs: number;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'TimeoutError', 'RequestTimeout']);
const TRANSIENT_NAMES = new Set(['ThrottlingException', 'ServiceUnavailableException', 'InternalFailureException', 'InternalException', 'InternalServerException', 'LimitExceededException', 'CredentialsProviderError']);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: unknown;
  resourceId?: string;
  resourceArn?: string;
  cause?: unknown;
}

/** The error's network code, if it is (or wraps) one. */
function networkCode(e: SdkError): string | undefined {
  for (let x: SdkError | undefined = e, depth = 0; x && depth < 4; x = x.cause as SdkError | undefined, depth++) {
    if (x.code && NETWORK_CODES.has(x.code)) return x.code;
    if (x.name && NETWORK_CODES.has(x.name)) return x.name;
    if (x.name === 'AggregateError') return 'ECONNREFUSED';
  }
  return undefined;
}

export function classify(action: string, err: unknown): AwsCallError {
  if (err instanceof AwsCallError) return err;
  const e = (err ?? {}) as SdkError;
  const net = networkCode(e);
  const status = e.$metadata?.httpStatusCode;
  let kind: AwsFailureKind;
  if (net) kind = 'unreachable';
  else if (status === undefined) kind = e.name && TRANSIENT_NAMES.has(e.name) ? 'transient' : 'unreachable';
  else if (status >= 500 || status === 429 || (e.name && TRANSIENT_NAMES.has(e.name))) kind = 'transient';
  else kind = 'permanent';
  return new AwsCallError(kind, action, net ?? e.name ?? 'Error', e.message ?? String(err));
}

const isName = (err: unknown, name: string) => (err as SdkError | undefined)?.name === name;

/** AWS's certificate id: the SHA-256 of the certificate's DER, in hex. */
export function awsCertificateId(pem: string): string {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');
}

export class AwsSdkIotApi implements AwsIotApi {
  private readonly iot: IoTClient;
  private data: IoTDataPlaneClient | undefined;
  private dataEndpointUrl: string | undefined;

  constructor(private readonly o: AwsSdkIotApiOptions) {
    this.iot = new IoTClient(this.clientOptions(o.iotEndpoint));
    this.dataEndpointUrl = o.iotDataEndpoint;
  }

  private clientOptions(endpoint: string | undefined) {
    return {
      ...(this.o.region ? { region: this.o.region } : {}),
      ...(endpoint ? { endpoint } : {}),
      maxAttempts: 1,
      requestHandler: { connectionTimeout: Math.min(this.o.requestTimeoutMs, 5000), requestTimeout: this.o.requestTimeoutMs },
    };
  }

  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classify(action, err);
    }
  }

  getRegistrationCode(): Promise<string> {
    return this.call('GetRegistrationCode', async () => {
      const r = await this.iot.send(new GetRegistrationCodeCommand({}));
      if (!r.registrationCode) throw new AwsCallError('transient', 'GetRegistrationCode', 'NoCode', 'AWS returned no registration code');
      return r.registrationCode;
    });
  }

  private async registered(action: string, pem: string, fn: () => Promise<{ certificateId?: string; certificateArn?: string }>): Promise<RegisteredCertificate> {
    try {
      const r = await fn();
      return { certificateId: r.certificateId ?? awsCertificateId(pem), certificateArn: r.certificateArn ?? '', existed: false };
    } catch (err) {
      if (isName(err, 'ResourceAlreadyExistsException')) {
        const e = err as SdkError;
        return { certificateId: e.resourceId ?? awsCertificateId(pem), certificateArn: e.resourceArn ?? '', existed: true };
      }
      throw classify(action, err);
    }
  }

  registerCaCertificate(input: { caCertificatePem: string; verificationCertificatePem?: string; allowAutoRegistration: boolean; registrationConfig?: AwsRegistrationConfig }): Promise<RegisteredCertificate> {
    return this.registered('RegisterCACertificate', input.caCertificatePem, () =>
      this.iot.send(
        new RegisterCACertificateCommand({
          caCertificate: input.caCertificatePem,
          ...(input.verificationCertificatePem ? { verificationCertificate: input.verificationCertificatePem, certificateMode: 'DEFAULT' } : { certificateMode: 'SNI_ONLY' }),
          setAsActive: true,
          allowAutoRegistration: input.allowAutoRegistration,
          ...(input.registrationConfig ? { registrationConfig: input.registrationConfig } : {}),
        }),
      ),
    );
  }

  updateCaCertificate(input: { certificateId: string; newStatus?: 'ACTIVE' | 'INACTIVE'; newAutoRegistrationStatus?: 'ENABLE' | 'DISABLE'; registrationConfig?: AwsRegistrationConfig }): Promise<void> {
    return this.call('UpdateCACertificate', async () => {
      await this.iot.send(
        new UpdateCACertificateCommand({
          certificateId: input.certificateId,
          ...(input.newStatus ? { newStatus: input.newStatus } : {}),
          ...(input.newAutoRegistrationStatus ? { newAutoRegistrationStatus: input.newAutoRegistrationStatus } : {}),
          ...(input.registrationConfig ? { registrationConfig: input.registrationConfig } : {}),
        }),
      );
    });
  }

  async describeCaCertificate(certificateId: string): Promise<AwsCaDescription | undefined> {
    try {
      const r = await this.iot.send(new DescribeCACertificateCommand({ certificateId }));
      const d = r.certificateDescription;
      const c = r.registrationConfig;
      const config = c && (c.templateBody || c.templateName || c.roleArn) ? { ...(c.templateBody ? { templateBody: c.templateBody } : {}), ...(c.templateName ? { templateName: c.templateName } : {}), ...(c.roleArn ? { roleArn: c.roleArn } : {}) } : null;
      const auto = d?.autoRegistrationStatus;
      return { status: d?.status ?? 'UNKNOWN', autoRegistrationStatus: auto === 'ENABLE' || auto === 'DISABLE' ? auto : null, registrationConfig: config, mode: d?.certificateMode ?? null };
    } catch (err) {
      if (isName(err, 'ResourceNotFoundException')) return undefined;
      throw classify('DescribeCACertificate', err);
    }
  }

  async describeCertificate(certificateId: string): Promise<AwsCertificateDescription | undefined> {
    try {
      const d = (await this.iot.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription;
      return { status: d?.status ?? 'UNKNOWN', caCertificateId: d?.caCertificateId ?? null };
    } catch (err) {
      if (isName(err, 'ResourceNotFoundException')) return undefined;
      throw classify('DescribeCertificate', err);
    }
  }

  async createThing(input: { thingName: string; attributes: Record<string, string> }): Promise<{ thingArn: string | null; existed: boolean }> {
    try {
      const r = await this.iot.send(new CreateThingCommand({ thingName: input.thingName, attributePayload: { attributes: input.attributes } }));
      return { thingArn: r.thingArn ?? null, existed: false };
    } catch (err) {
      // The thing exists with other attributes: it stays as it is (the operator may have changed it).
      if (isName(err, 'ResourceAlreadyExistsException')) return { thingArn: (err as SdkError).resourceArn ?? null, existed: true };
      throw classify('CreateThing', err);
    }
  }

  registerCertificate(input: { certificatePem: string; caCertificatePem?: string; status: 'ACTIVE' | 'INACTIVE' | 'REVOKED' }): Promise<RegisteredCertificate> {
    if (input.caCertificatePem) {
      return this.registered('RegisterCertificate', input.certificatePem, () =>
        this.iot.send(new RegisterCertificateCommand({ certificatePem: input.certificatePem, caCertificatePem: input.caCertificatePem!, status: input.status })),
      );
    }
    return this.registered('RegisterCertificateWithoutCA', input.certificatePem, () =>
      this.iot.send(new RegisterCertificateWithoutCACommand({ certificatePem: input.certificatePem, status: input.status })),
    );
  }

  updateCertificate(input: { certificateId: string; newStatus: 'ACTIVE' | 'INACTIVE' | 'REVOKED' }): Promise<void> {
    return this.call('UpdateCertificate', async () => {
      await this.iot.send(new UpdateCertificateCommand({ certificateId: input.certificateId, newStatus: input.newStatus }));
    });
  }

  async createPolicy(input: { policyName: string; policyDocument: string }): Promise<void> {
    try {
      await this.iot.send(new CreatePolicyCommand({ policyName: input.policyName, policyDocument: input.policyDocument }));
    } catch (err) {
      if (isName(err, 'ResourceAlreadyExistsException')) return;
      throw classify('CreatePolicy', err);
    }
  }

  async getPolicy(policyName: string): Promise<{ document: string; defaultVersionId: string } | undefined> {
    try {
      const r = await this.iot.send(new GetPolicyCommand({ policyName }));
      return { document: r.policyDocument ?? '', defaultVersionId: r.defaultVersionId ?? '' };
    } catch (err) {
      if (isName(err, 'ResourceNotFoundException')) return undefined;
      throw classify('GetPolicy', err);
    }
  }

  listPolicyVersions(policyName: string): Promise<AwsPolicyVersion[]> {
    return this.call('ListPolicyVersions', async () =>
      ((await this.iot.send(new ListPolicyVersionsCommand({ policyName }))).policyVersions ?? []).map((v) => ({ versionId: v.versionId ?? '', isDefault: v.isDefaultVersion === true, createdAt: v.createDate ?? null })),
    );
  }

  createPolicyVersion(input: { policyName: string; policyDocument: string }): Promise<string> {
    return this.call('CreatePolicyVersion', async () => (await this.iot.send(new CreatePolicyVersionCommand({ ...input, setAsDefault: true }))).policyVersionId ?? '');
  }

  async deletePolicyVersion(input: { policyName: string; versionId: string }): Promise<void> {
    try {
      await this.iot.send(new DeletePolicyVersionCommand({ policyName: input.policyName, policyVersionId: input.versionId }));
    } catch (err) {
      if (isName(err, 'ResourceNotFoundException')) return;
      throw classify('DeletePolicyVersion', err);
    }
  }

  attachPolicy(input: { policyName: string; target: string }): Promise<void> {
    return this.call('AttachPolicy', async () => {
      await this.iot.send(new AttachPolicyCommand(input));
    });
  }

  attachThingPrincipal(input: { thingName: string; principal: string }): Promise<void> {
    return this.call('AttachThingPrincipal', async () => {
      await this.iot.send(new AttachThingPrincipalCommand(input));
    });
  }

  async detachThingPrincipal(input: { thingName: string; principal: string }): Promise<void> {
    try {
      await this.iot.send(new DetachThingPrincipalCommand(input));
    } catch (err) {
      // Already gone: what detaching wanted.
      if (isName(err, 'ResourceNotFoundException')) return;
      throw classify('DetachThingPrincipal', err);
    }
  }

  async createThingGroup(input: { thingGroupName: string }): Promise<void> {
    try {
      await this.iot.send(new CreateThingGroupCommand({ thingGroupName: input.thingGroupName }));
    } catch (err) {
      if (isName(err, 'ResourceAlreadyExistsException')) return;
      throw classify('CreateThingGroup', err);
    }
  }

  addThingToThingGroup(input: { thingGroupName: string; thingName: string }): Promise<void> {
    return this.call('AddThingToThingGroup', async () => {
      await this.iot.send(new AddThingToThingGroupCommand(input));
    });
  }

  async describeThing(thingName: string): Promise<Record<string, unknown> | undefined> {
    try {
      const { $metadata: _, ...thing } = await this.iot.send(new DescribeThingCommand({ thingName }));
      return thing as Record<string, unknown>;
    } catch (err) {
      if (isName(err, 'ResourceNotFoundException')) return undefined;
      throw classify('DescribeThing', err);
    }
  }

  listThingPrincipals(thingName: string): Promise<string[]> {
    return this.call('ListThingPrincipals', async () => (await this.iot.send(new ListThingPrincipalsCommand({ thingName }))).principals ?? []);
  }

  async dataEndpoint(): Promise<string> {
    if (!this.dataEndpointUrl) {
      const address = await this.call('DescribeEndpoint', async () => (await this.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress);
      if (!address) throw new AwsCallError('transient', 'DescribeEndpoint', 'NoEndpoint', 'AWS returned no data endpoint');
      this.dataEndpointUrl = `https://${address}`;
    }
    return this.dataEndpointUrl;
  }

  private async dataPlane(): Promise<IoTDataPlaneClient> {
    this.data ??= new IoTDataPlaneClient(this.clientOptions(await this.dataEndpoint()));
    return this.data;
  }

  async updateThingShadow(input: { thingName: string; shadowName: string; payload: unknown }): Promise<void> {
    const data = await this.dataPlane();
    await this.call('UpdateThingShadow', async () => {
      await data.send(new UpdateThingShadowCommand({ thingName: input.thingName, shadowName: input.shadowName, payload: new TextEncoder().encode(JSON.stringify(input.payload)) }));
    });
  }

  async getThingShadow(input: { thingName: string; shadowName: string }): Promise<Record<string, unknown> | undefined> {
    const data = await this.dataPlane();
    try {
      const r = await data.send(new GetThingShadowCommand(input));
      return r.payload ? (JSON.parse(new TextDecoder().decode(r.payload)) as Record<string, unknown>) : undefined;
    } catch (err) {
      if (isName(err, 'ResourceNotFoundException')) return undefined;
      throw classify('GetThingShadow', err);
    }
  }

  close(): void {
    this.iot.destroy();
    this.data?.destroy();
  }
}
