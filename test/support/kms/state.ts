import { randomBytes, randomUUID } from 'node:crypto';

export type KmsAction = 'Encrypt' | 'Decrypt' | 'GenerateDataKey' | 'DescribeKey';
const ALL_ACTIONS: readonly KmsAction[] = ['Encrypt', 'Decrypt', 'GenerateDataKey', 'DescribeKey'];

/** A policy grant: a principal ARN (user, or role: its sessions match) and optionally only some actions. */
export type KeyGrant = string | { principal: string; actions: KmsAction[] };

export interface KeyConfig {
  /** `arn:aws:kms:<region>:<account>:key/<id>` */
  arn: string;
  /** Defaults to the region in the ARN. */
  region?: string;
  enabled?: boolean;
  /** Who may use the key; nobody else may. */
  allow: KeyGrant[];
  /** Alias names (`alias/name`); their ARNs in the key's region and account resolve to the key. */
  aliases?: string[];
  /** 32 bytes, base64: fixed key material, so blobs survive a server restart. Random otherwise. */
  material?: string;
}

export interface RoleConfig {
  /** `arn:aws:iam::<account>:role/<name>` */
  arn: string;
  trust: { webIdentityToken?: string; principals?: string[] };
}

export interface UserConfig {
  accessKeyId: string;
  secretAccessKey: string;
  /** `arn:aws:iam::<account>:user/<name>` */
  arn: string;
}

export interface KmsServerConfig {
  keys?: KeyConfig[];
  roles?: RoleConfig[];
  users?: UserConfig[];
  /** How many request records to keep (oldest dropped). */
  maxLoggedRequests?: number;
  /** Added before every KMS answer, as a remote region's round trip would. */
  latencyMs?: number;
}

/** What the server saw; never holds plaintext or secrets. */
export interface RequestRecord {
  service: 'kms' | 'sts';
  operation: string;
  /** The caller's ARN, when the request was signed by known credentials. */
  principal?: string;
  keyArn?: string;
  signingRegion?: string;
  encryptionContext?: Record<string, string>;
  roleSessionName?: string;
  /** `ok`, or the error code returned. */
  outcome: string;
}

export interface ServerKey {
  arn: string;
  id: string;
  region: string;
  account: string;
  enabled: boolean;
  grants: { principal: string; actions: readonly KmsAction[] }[];
  material: Buffer;
  aliasArns: string[];
  createdAt: Date;
}

export interface Caller {
  accessKeyId: string;
  /** User ARN or assumed-role session ARN. */
  arn: string;
  /** For sessions: the role ARN, which is what policies name. */
  roleArn?: string;
}

interface Session {
  secretAccessKey: string;
  sessionToken: string;
  arn: string;
  roleArn: string;
  expiresAt: number;
}

/** The status and AWS error code a request fails with. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const KEY_ARN = /^arn:(aws[\w-]*):kms:([a-z0-9-]+):(\d{12}):key\/([\w-]+)$/;
const ROLE_ARN = /^arn:(aws[\w-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

export class ServerState {
  readonly keys: ServerKey[];
  readonly roles: Map<string, RoleConfig>;
  readonly users: Map<string, UserConfig>;
  readonly requests: RequestRecord[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly maxLogged: number;

  constructor(config: KmsServerConfig) {
    this.keys = (config.keys ?? []).map(toServerKey);
    this.roles = new Map((config.roles ?? []).map((r) => {
      if (!ROLE_ARN.test(r.arn)) throw new Error(`not a role ARN: ${r.arn}`);
      return [r.arn, r];
    }));
    this.users = new Map((config.users ?? []).map((u) => [u.accessKeyId, u]));
    this.maxLogged = config.maxLoggedRequests ?? 1000;
  }

  log(record: RequestRecord): void {
    this.requests.push(record);
    if (this.requests.length > this.maxLogged) this.requests.splice(0, this.requests.length - this.maxLogged);
  }

  /** Key ARN, key id, alias ARN or `alias/name` -> key. Ids and alias names resolve in `region`. */
  findKey(keyId: string, region: string): ServerKey | undefined {
    if (keyId.startsWith('arn:')) return this.keys.find((k) => k.arn === keyId || k.aliasArns.includes(keyId));
    if (keyId.startsWith('alias/')) return this.keys.find((k) => k.region === region && k.aliasArns.some((a) => a.endsWith(`:${keyId}`)));
    return this.keys.find((k) => k.region === region && k.id === keyId);
  }

  setEnabled(arn: string, enabled: boolean): void {
    const key = this.keys.find((k) => k.arn === arn);
    if (!key) throw new Error(`no such key: ${arn}`);
    key.enabled = enabled;
  }

  isAllowed(caller: Caller, key: ServerKey, action: KmsAction): boolean {
    const names = [caller.arn, caller.roleArn].filter((n): n is string => n !== undefined);
    return key.grants.some((g) => names.includes(g.principal) && g.actions.includes(action));
  }

  /** Secret and session token for an access key id, or undefined when unknown. */
  credentialsFor(accessKeyId: string, now: number): { secretAccessKey: string; sessionToken?: string; caller: Caller } | 'expired' | undefined {
    const user = this.users.get(accessKeyId);
    if (user) return { secretAccessKey: user.secretAccessKey, caller: { accessKeyId, arn: user.arn } };
    const session = this.sessions.get(accessKeyId);
    if (!session) return undefined;
    if (session.expiresAt <= now) return 'expired';
    return {
      secretAccessKey: session.secretAccessKey,
      sessionToken: session.sessionToken,
      caller: { accessKeyId, arn: session.arn, roleArn: session.roleArn },
    };
  }

  issueSession(roleArn: string, sessionName: string, durationSeconds: number, now: number) {
    const [, partition, account, roleName] = ROLE_ARN.exec(roleArn)!;
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const session: Session = {
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      arn: `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`,
      roleArn,
      expiresAt: now + durationSeconds * 1000,
    };
    // Sessions are never pruned beyond this bound: a test server is short-lived.
    if (this.sessions.size >= 10_000) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(accessKeyId, session);
    return { accessKeyId, ...session, roleId: `AROA${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}` };
  }
}

function toServerKey(config: KeyConfig): ServerKey {
  const m = KEY_ARN.exec(config.arn);
  if (!m) throw new Error(`not a KMS key ARN: ${config.arn}`);
  const [, partition, region, account, id] = m;
  const material = config.material === undefined ? randomBytes(32) : Buffer.from(config.material, 'base64');
  if (material.length !== 32) throw new Error(`key material for ${config.arn} must be 32 bytes`);
  return {
    arn: config.arn,
    id: id!,
    region: config.region ?? region!,
    account: account!,
    enabled: config.enabled ?? true,
    grants: config.allow.map((g) => (typeof g === 'string' ? { principal: g, actions: ALL_ACTIONS } : g)),
    material,
    aliasArns: (config.aliases ?? []).map((a) => `arn:${partition}:kms:${region}:${account}:${a.startsWith('alias/') ? a : `alias/${a}`}`),
    createdAt: new Date(),
  };
}
