/**
 * A stand-in for AWS IoT Core (control plane and data plane), for tests only: there is no AWS here. It speaks
 * the REST-JSON protocol of the calls the connector makes, as the AWS SDK v3 sends them, and checks every
 * request's SigV4 signature by signing it again with the known test credentials (@smithy/signature-v4, the
 * SDK's own signer): a request that is not signed, or signed with other credentials, region or service, gets
 * AWS's 403. It keeps what AWS would keep (CAs, certificates, things, policies, groups, shadows), records every
 * call, and can go away (connections refused) and come back on the same port.
 */
import { createHash, createHmac, X509Certificate } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

export const FAKE_AWS_CREDENTIALS = { accessKeyId: 'AKIDLAMASSUTEST0001', secretAccessKey: 'lamassu-test-secret-key/only+for+tests' };
export const FAKE_AWS_REGION = 'eu-west-1';

/**
 * The environment that points a `lamassu serve` process's AWS SDK at the stand-in listening at `url`: its
 * region and test credentials, and nothing from this machine's AWS set-up (no instance metadata, config or
 * credentials files; `dir` only names files that do not exist).
 */
export function fakeAwsEnv(url: string, dir: string): Record<string, string> {
  return {
    AWS_REGION: FAKE_AWS_REGION,
    AWS_ENDPOINT_URL_IOT: url,
    AWS_ENDPOINT_URL_IOT_DATA_PLANE: url,
    AWS_ACCESS_KEY_ID: FAKE_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_AWS_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: `${dir}/no-aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-aws-credentials`,
  };
}
export const FAKE_AWS_ACCOUNT = '123456789012';

/** node:crypto as the signer's hash (SHA-256, or HMAC-SHA-256 with a secret). */
type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Source): Buffer => (typeof d === 'string' ? Buffer.from(d) : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d));
class NodeSha256 {
  private readonly h;
  constructor(secret?: Source) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Source): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

export interface RecordedCall {
  action: string;
  /** Path labels, query and the JSON body (or the shadow document). */
  input: Record<string, unknown>;
  at: number;
}

interface FakeCert {
  id: string;
  arn: string;
  pem: string;
  status: string;
  caId: string | null;
}

export interface FakeRegistrationConfig {
  templateBody?: string;
  templateName?: string;
  roleArn?: string;
}

export interface FakePolicyVersion {
  versionId: string;
  document: string;
  isDefault: boolean;
  /** Epoch seconds, as the REST-JSON protocol sends timestamps. */
  createDate: number;
}

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** AWS's checks of a RegistrationConfig (a JITP template body must be JSON with Resources; a role must be an IAM role ARN). */
function registrationConfig(raw: unknown): FakeRegistrationConfig | null {
  if (raw === undefined || raw === null) return null;
  const c = raw as Record<string, unknown>;
  const out: FakeRegistrationConfig = {};
  if (typeof c.templateBody === 'string') {
    let t: unknown;
    try {
      t = JSON.parse(c.templateBody);
    } catch {
      throw new AwsError(400, 'InvalidRequestException', 'templateBody is not valid JSON');
    }
    if (!t || typeof t !== 'object' || !(t as Record<string, unknown>).Resources) throw new AwsError(400, 'InvalidRequestException', 'templateBody has no Resources');
    out.templateBody = c.templateBody;
  }
  if (typeof c.templateName === 'string') out.templateName = c.templateName;
  if (typeof c.roleArn === 'string') {
    if (!/^arn:aws:iam::\d{12}:role\/.+$/.test(c.roleArn)) throw new AwsError(400, 'InvalidRequestException', `roleArn ${c.roleArn} is not an IAM role`);
    out.roleArn = c.roleArn;
  }
  return Object.keys(out).length ? out : null;
}

const nowSeconds = () => Date.now() / 1000;

const certId = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
const arn = (kind: string, id: string) => `arn:aws:iot:${FAKE_AWS_REGION}:${FAKE_AWS_ACCOUNT}:${kind}/${id}`;

export class FakeAwsIot {
  readonly calls: RecordedCall[] = [];
  /** Requests refused because their signature did not verify. */
  readonly badSignatures: string[] = [];
  readonly registrationCode = createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 64);
  readonly cas = new Map<string, FakeCert & { mode: string; autoRegistration: boolean; registrationConfig: FakeRegistrationConfig | null }>();
  readonly certificates = new Map<string, FakeCert>();
  readonly things = new Map<string, { attributes: Record<string, string>; principals: Set<string>; groups: Set<string>; version: number }>();
  /** `document` is the default version's; AWS keeps at most 5 versions of a policy. */
  readonly policies = new Map<string, { document: string; targets: Set<string>; versions: FakePolicyVersion[]; nextVersion: number }>();
  readonly groups = new Set<string>();
  readonly shadows = new Map<string, Record<string, unknown>>();
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly signers = new Map<string, SignatureV4>();

  private constructor(public port: number) {}

  static async start(): Promise<FakeAwsIot> {
    const fake = new FakeAwsIot(0);
    await fake.up();
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens (again) on its port. */
  async up(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops open connections: AWS unreachable (connection refused) until `up()`. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }

  close(): Promise<void> {
    return this.down();
  }

  callsOf(action: string): RecordedCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  private signer(service: string): SignatureV4 {
    let s = this.signers.get(service);
    if (!s) {
      s = new SignatureV4({ credentials: FAKE_AWS_CREDENTIALS, region: FAKE_AWS_REGION, service, sha256: NodeSha256 });
      this.signers.set(service, s);
    }
    return s;
  }

  /** Signs the request again with the known credentials over the headers it says it signed, and compares. */
  private async verifySignature(req: http.IncomingMessage, url: URL, body: Buffer, service: string): Promise<string | undefined> {
    const auth = req.headers.authorization ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return 'missing or malformed SigV4 Authorization header';
    const [, akid, , region, scopeService, signedHeaders, signature] = m;
    if (akid !== FAKE_AWS_CREDENTIALS.accessKeyId) return `unknown access key ${akid}`;
    if (region !== FAKE_AWS_REGION) return `signed for region ${region}`;
    if (scopeService !== service) return `signed for service ${scopeService}, not ${service}`;
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!d) return 'missing x-amz-date';
    const signingDate = new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!));
    if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return 'request time too skewed';
    const headers: Record<string, string> = {};
    for (const h of signedHeaders!.split(';')) {
      const v = req.headers[h];
      if (v === undefined) return `signed header ${h} missing`;
      headers[h] = Array.isArray(v) ? v.join(',') : v;
    }
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const signed = await this.signer(service).sign(
      { method: req.method!, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers, body: body.length ? body : undefined },
      { signingDate, unsignableHeaders: new Set(), signableHeaders: new Set(Object.keys(headers)) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1];
    return expected === signature ? undefined : 'signature does not match';
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url!, `http://${req.headers.host}`);
    const isShadow = /^\/things\/[^/]+\/shadow$/.test(url.pathname);
    const service = isShadow ? 'iotdata' : 'iot';
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(json ?? {});
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': createHash('md5').update(String(Math.random())).digest('hex'), ...headers });
      res.end(text);
    };
    try {
      const bad = await this.verifySignature(req, url, body, service);
      if (bad) {
        this.badSignatures.push(`${req.method} ${url.pathname}: ${bad}`);
        throw new AwsError(403, 'ForbiddenException', `The request signature we calculated does not match the signature you provided (${bad})`);
      }
      const out = this.route(req.method!, url, body, req.headers);
      send(200, out);
    } catch (err) {
      if (err instanceof AwsError) send(err.status, { message: err.message, ...err.extra }, { 'x-amzn-errortype': `${err.type}:` });
      else send(500, { message: String(err) }, { 'x-amzn-errortype': 'InternalFailureException:' });
    }
  }

  private record(action: string, input: Record<string, unknown>) {
    this.calls.push({ action, input, at: Date.now() });
  }

  private route(method: string, url: URL, raw: Buffer, headers: http.IncomingHttpHeaders): unknown {
    const p = url.pathname;
    const q = url.searchParams;
    const body = raw.length && !/\/shadow$/.test(p) ? (JSON.parse(raw.toString('utf8')) as Record<string, any>) : {};
    let m: RegExpExecArray | null;
    const label = (s: string) => decodeURIComponent(s);

    if (method === 'GET' && p === '/registrationcode') {
      this.record('GetRegistrationCode', {});
      return { registrationCode: this.registrationCode };
    }
    if (method === 'GET' && p === '/endpoint') {
      this.record('DescribeEndpoint', { endpointType: q.get('endpointType') });
      return { endpointAddress: `127.0.0.1:${this.port}` };
    }
    if (method === 'POST' && p === '/cacertificate') {
      const input = { ...body, setAsActive: q.get('setAsActive'), allowAutoRegistration: q.get('allowAutoRegistration') };
      this.record('RegisterCACertificate', input);
      const ca = new X509Certificate(body.caCertificate);
      const mode = body.certificateMode ?? 'DEFAULT';
      if (mode === 'DEFAULT') {
        if (!body.verificationCertificate) throw new AwsError(400, 'InvalidRequestException', 'verificationCertificate is required in DEFAULT mode');
        const v = new X509Certificate(body.verificationCertificate);
        if (!v.subject.split('\n').includes(`CN=${this.registrationCode}`)) throw new AwsError(400, 'CertificateValidationException', 'verification certificate CN is not the registration code');
        if (!v.verify(ca.publicKey)) throw new AwsError(400, 'CertificateValidationException', 'verification certificate not signed by the CA');
      }
      const config = registrationConfig(body.registrationConfig);
      const id = certId(body.caCertificate);
      if (this.cas.has(id)) throw new AwsError(409, 'ResourceAlreadyExistsException', 'CA certificate already registered', { resourceId: id, resourceArn: arn('cacert', id) });
      this.cas.set(id, { id, arn: arn('cacert', id), pem: body.caCertificate, status: q.get('setAsActive') === 'true' ? 'ACTIVE' : 'INACTIVE', caId: null, mode, autoRegistration: q.get('allowAutoRegistration') === 'true', registrationConfig: config });
      return { certificateArn: arn('cacert', id), certificateId: id };
    }
    if ((m = /^\/cacertificate\/([^/]+)$/.exec(p))) {
      const id = label(m[1]!);
      const ca = this.cas.get(id);
      if (method === 'GET') {
        this.record('DescribeCACertificate', { certificateId: id });
        if (!ca) throw new AwsError(404, 'ResourceNotFoundException', 'no such CA certificate');
        return {
          certificateDescription: {
            certificateArn: ca.arn,
            certificateId: ca.id,
            status: ca.status,
            certificatePem: ca.pem,
            ownedBy: FAKE_AWS_ACCOUNT,
            autoRegistrationStatus: ca.autoRegistration ? 'ENABLE' : 'DISABLE',
            certificateMode: ca.mode,
            creationDate: nowSeconds(),
            lastModifiedDate: nowSeconds(),
            customerVersion: 1,
          },
          ...(ca.registrationConfig ? { registrationConfig: ca.registrationConfig } : {}),
        };
      }
      if (method === 'PUT') {
        const input = { certificateId: id, newStatus: q.get('newStatus'), newAutoRegistrationStatus: q.get('newAutoRegistrationStatus'), ...body };
        this.record('UpdateCACertificate', input);
        if (!ca) throw new AwsError(404, 'ResourceNotFoundException', 'no such CA certificate');
        const status = q.get('newStatus');
        if (status !== null && !['ACTIVE', 'INACTIVE'].includes(status)) throw new AwsError(400, 'InvalidRequestException', `newStatus ${status}`);
        const auto = q.get('newAutoRegistrationStatus');
        if (auto !== null && !['ENABLE', 'DISABLE'].includes(auto)) throw new AwsError(400, 'InvalidRequestException', `newAutoRegistrationStatus ${auto}`);
        const config = registrationConfig(body.registrationConfig);
        if (status) ca.status = status;
        if (auto) ca.autoRegistration = auto === 'ENABLE';
        if (config) ca.registrationConfig = config;
        if (body.removeAutoRegistration === true) ca.autoRegistration = false;
        return {};
      }
    }
    if (method === 'GET' && (m = /^\/certificates\/([^/]+)$/.exec(p))) {
      const id = label(m[1]!);
      this.record('DescribeCertificate', { certificateId: id });
      const c = this.certificates.get(id);
      if (!c) throw new AwsError(404, 'ResourceNotFoundException', 'no such certificate');
      return {
        certificateDescription: {
          certificateArn: c.arn,
          certificateId: c.id,
          ...(c.caId ? { caCertificateId: c.caId } : {}),
          status: c.status,
          certificatePem: c.pem,
          ownedBy: FAKE_AWS_ACCOUNT,
          certificateMode: c.caId ? 'DEFAULT' : 'SNI_ONLY',
          creationDate: nowSeconds(),
          lastModifiedDate: nowSeconds(),
          customerVersion: 1,
        },
      };
    }
    if (method === 'POST' && (p === '/certificate/register' || p === '/certificate/register-no-ca')) {
      const action = p === '/certificate/register' ? 'RegisterCertificate' : 'RegisterCertificateWithoutCA';
      this.record(action, body);
      const cert = new X509Certificate(body.certificatePem);
      let caId: string | null = null;
      if (action === 'RegisterCertificate') {
        const ca = this.cas.get(certId(body.caCertificatePem));
        if (!ca) throw new AwsError(400, 'CertificateValidationException', 'CA certificate not registered');
        if (!cert.checkIssued(new X509Certificate(ca.pem)) || !cert.verify(new X509Certificate(ca.pem).publicKey)) throw new AwsError(400, 'CertificateValidationException', 'certificate not issued by the CA');
        caId = ca.id;
      }
      const id = certId(body.certificatePem);
      if (this.certificates.has(id)) throw new AwsError(409, 'ResourceAlreadyExistsException', 'certificate already registered', { resourceId: id, resourceArn: arn('cert', id) });
      this.certificates.set(id, { id, arn: arn('cert', id), pem: body.certificatePem, status: body.status ?? 'INACTIVE', caId });
      return { certificateArn: arn('cert', id), certificateId: id };
    }
    if (method === 'PUT' && (m = /^\/certificates\/([^/]+)$/.exec(p))) {
      const id = label(m[1]!);
      this.record('UpdateCertificate', { certificateId: id, newStatus: q.get('newStatus') });
      const c = this.certificates.get(id);
      if (!c) throw new AwsError(404, 'ResourceNotFoundException', 'no such certificate');
      if (c.status === 'REVOKED' && q.get('newStatus') !== 'REVOKED') throw new AwsError(400, 'InvalidRequestException', 'a revoked certificate cannot change status');
      c.status = q.get('newStatus')!;
      return {};
    }
    if ((m = /^\/things\/([^/]+)$/.exec(p))) {
      const name = label(m[1]!);
      if (method === 'POST') {
        this.record('CreateThing', { thingName: name, ...body });
        const attributes = (body.attributePayload?.attributes ?? {}) as Record<string, string>;
        const existing = this.things.get(name);
        if (existing && JSON.stringify(existing.attributes) !== JSON.stringify(attributes)) {
          throw new AwsError(409, 'ResourceAlreadyExistsException', 'thing exists with other attributes', { resourceId: name, resourceArn: arn('thing', name) });
        }
        if (!existing) this.things.set(name, { attributes, principals: new Set(), groups: new Set(), version: 1 });
        return { thingName: name, thingArn: arn('thing', name), thingId: createHash('md5').update(name).digest('hex') };
      }
      if (method === 'GET') {
        this.record('DescribeThing', { thingName: name });
        const t = this.things.get(name);
        if (!t) throw new AwsError(404, 'ResourceNotFoundException', 'no such thing');
        return { thingName: name, thingArn: arn('thing', name), attributes: t.attributes, version: t.version };
      }
    }
    if ((m = /^\/things\/([^/]+)\/principals$/.exec(p))) {
      const name = label(m[1]!);
      const t = this.things.get(name);
      if (method === 'GET') {
        this.record('ListThingPrincipals', { thingName: name });
        if (!t) throw new AwsError(404, 'ResourceNotFoundException', 'no such thing');
        return { principals: [...t.principals] };
      }
      const principal = String(headers['x-amzn-principal'] ?? '');
      this.record(method === 'PUT' ? 'AttachThingPrincipal' : 'DetachThingPrincipal', { thingName: name, principal });
      if (!t) throw new AwsError(404, 'ResourceNotFoundException', 'no such thing');
      if (![...this.certificates.values()].some((c) => c.arn === principal)) throw new AwsError(404, 'ResourceNotFoundException', 'no such principal');
      if (method === 'PUT') t.principals.add(principal);
      else t.principals.delete(principal);
      return {};
    }
    if ((m = /^\/policies\/([^/]+)$/.exec(p))) {
      const name = label(m[1]!);
      if (method === 'POST') {
        this.record('CreatePolicy', { policyName: name, ...body });
        this.policyDocument(body.policyDocument);
        if (this.policies.has(name)) throw new AwsError(409, 'ResourceAlreadyExistsException', 'policy exists', { resourceId: name, resourceArn: arn('policy', name) });
        this.policies.set(name, { document: body.policyDocument, targets: new Set(), versions: [{ versionId: '1', document: body.policyDocument, isDefault: true, createDate: nowSeconds() }], nextVersion: 2 });
        return { policyName: name, policyArn: arn('policy', name), policyDocument: body.policyDocument, policyVersionId: '1' };
      }
      if (method === 'GET') {
        this.record('GetPolicy', { policyName: name });
        const policy = this.policies.get(name);
        if (!policy) throw new AwsError(404, 'ResourceNotFoundException', 'no such policy');
        const def = policy.versions.find((v) => v.isDefault)!;
        return { policyName: name, policyArn: arn('policy', name), policyDocument: def.document, defaultVersionId: def.versionId, creationDate: policy.versions[0]!.createDate, lastModifiedDate: def.createDate, generationId: String(policy.nextVersion) };
      }
    }
    if ((m = /^\/policies\/([^/]+)\/version$/.exec(p))) {
      const name = label(m[1]!);
      const policy = this.policies.get(name);
      if (method === 'GET') {
        this.record('ListPolicyVersions', { policyName: name });
        if (!policy) throw new AwsError(404, 'ResourceNotFoundException', 'no such policy');
        return { policyVersions: policy.versions.map((v) => ({ versionId: v.versionId, isDefaultVersion: v.isDefault, createDate: v.createDate })) };
      }
      if (method === 'POST') {
        this.record('CreatePolicyVersion', { policyName: name, setAsDefault: q.get('setAsDefault'), ...body });
        if (!policy) throw new AwsError(404, 'ResourceNotFoundException', 'no such policy');
        this.policyDocument(body.policyDocument);
        if (policy.versions.length >= 5) throw new AwsError(409, 'VersionsLimitExceededException', 'the policy has 5 versions: delete one first');
        const version: FakePolicyVersion = { versionId: String(policy.nextVersion++), document: body.policyDocument, isDefault: false, createDate: nowSeconds() };
        if (q.get('setAsDefault') === 'true') {
          for (const v of policy.versions) v.isDefault = false;
          version.isDefault = true;
          policy.document = version.document;
        }
        policy.versions.push(version);
        return { policyArn: arn('policy', name), policyDocument: version.document, policyVersionId: version.versionId, isDefaultVersion: version.isDefault };
      }
    }
    if (method === 'DELETE' && (m = /^\/policies\/([^/]+)\/version\/([^/]+)$/.exec(p))) {
      const [name, versionId] = [label(m[1]!), label(m[2]!)];
      this.record('DeletePolicyVersion', { policyName: name, policyVersionId: versionId });
      const policy = this.policies.get(name);
      const version = policy?.versions.find((v) => v.versionId === versionId);
      if (!policy || !version) throw new AwsError(404, 'ResourceNotFoundException', 'no such policy version');
      if (version.isDefault) throw new AwsError(409, 'DeleteConflictException', 'the default version of a policy cannot be deleted');
      policy.versions = policy.versions.filter((v) => v !== version);
      return {};
    }
    if (method === 'PUT' && (m = /^\/target-policies\/([^/]+)$/.exec(p))) {
      const name = label(m[1]!);
      this.record('AttachPolicy', { policyName: name, ...body });
      const policy = this.policies.get(name);
      if (!policy) throw new AwsError(404, 'ResourceNotFoundException', 'no such policy');
      policy.targets.add(body.target);
      return {};
    }
    if (method === 'PUT' && p === '/thing-groups/addThingToThingGroup') {
      this.record('AddThingToThingGroup', body);
      const t = this.things.get(body.thingName);
      if (!t || !this.groups.has(body.thingGroupName)) throw new AwsError(404, 'ResourceNotFoundException', 'no such thing or group');
      t.groups.add(body.thingGroupName);
      return {};
    }
    if (method === 'POST' && (m = /^\/thing-groups\/([^/]+)$/.exec(p))) {
      const name = label(m[1]!);
      this.record('CreateThingGroup', { thingGroupName: name });
      this.groups.add(name);
      return { thingGroupName: name, thingGroupArn: arn('thinggroup', name), thingGroupId: createHash('md5').update(name).digest('hex') };
    }
    if ((m = /^\/things\/([^/]+)\/shadow$/.exec(p))) {
      const name = label(m[1]!);
      const shadowName = q.get('name') ?? '';
      const key = `${name}/${shadowName}`;
      if (method === 'POST') {
        const doc = JSON.parse(raw.toString('utf8')) as { state?: { desired?: Record<string, unknown>; reported?: Record<string, unknown> } };
        this.record('UpdateThingShadow', { thingName: name, shadowName, payload: doc });
        if (!this.things.has(name)) throw new AwsError(404, 'ResourceNotFoundException', 'no such thing');
        const prev = (this.shadows.get(key) ?? { state: {}, version: 0 }) as { state: Record<string, Record<string, unknown>>; version: number };
        const state = { ...prev.state };
        for (const part of ['desired', 'reported'] as const) if (doc.state?.[part]) state[part] = { ...(state[part] ?? {}), ...doc.state[part] };
        const next = { state, version: prev.version + 1, timestamp: Math.floor(Date.now() / 1000) };
        this.shadows.set(key, next);
        return next;
      }
      this.record('GetThingShadow', { thingName: name, shadowName });
      const s = this.shadows.get(key);
      if (!s) throw new AwsError(404, 'ResourceNotFoundException', `No shadow exists with name: '${shadowName}'`);
      return s;
    }
    throw new AwsError(404, 'UnknownOperationException', `the stand-in does not know ${method} ${p}`);
  }

  /** A policy document as AWS checks it: JSON with a Statement list. */
  private policyDocument(text: unknown): void {
    let doc: unknown;
    try {
      doc = JSON.parse(String(text));
    } catch {
      throw new AwsError(400, 'MalformedPolicyException', 'policy document is not JSON');
    }
    if (!doc || typeof doc !== 'object' || !Array.isArray((doc as Record<string, unknown>).Statement)) throw new AwsError(400, 'MalformedPolicyException', 'policy document has no Statement list');
  }

  /** Updates the device-reported part of a shadow, as a device would over MQTT (top-level keys merged, as AWS does). */
  report(thingName: string, shadowName: string, reported: Record<string, unknown>): void {
    const key = `${thingName}/${shadowName}`;
    const prev = (this.shadows.get(key) ?? { state: {}, version: 0 }) as { state: { reported?: Record<string, unknown> }; version: number };
    this.shadows.set(key, { state: { ...prev.state, reported: { ...(prev.state.reported ?? {}), ...reported } }, version: prev.version + 1, timestamp: Math.floor(Date.now() / 1000) });
  }
}
