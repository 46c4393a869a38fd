/**
 * AWS clients for one KMS key: region from the key ARN, credentials from the
 * SDK's standard chain (optionally a named profile), optionally a role
 * assumed through STS first. The SDK is loaded here, on first use only.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { KMSClient } from '@aws-sdk/client-kms';
import { joinLines } from '../../errors.js';
import { describeFailure } from './failure.js';
import { quietly } from '../../aws/quietly.js';

export const DEFAULT_TIMEOUT_MS = 5000;
const MAX_ATTEMPTS = 3;
const SESSION_NAME_LIMIT = 64;
// The region has no `:`, so no two parts compete for the same text: linear on a hostile ARN.
const KMS_ARN = /^arn:aws[\w-]*:kms:([^:\n]+):[0-9]+:(key|alias)\/[^\n]+$/;

export interface ClientSettings {
  region: string;
  profile?: string;
  role?: string;
  timeoutMs: number;
  log?: (line: string) => void;
}

/** The region of a KMS key or alias ARN, or undefined when the ARN is not one. */
export function regionFromArn(arn: string): string | undefined {
  return KMS_ARN.exec(arn)?.[1];
}

/** `sops@<hostname>`, without characters STS rejects, at most 64 characters. */
export function roleSessionName(host: string = hostname()): string {
  return `sops@${host.replace(/[^\w+=,.@-]/g, '')}`.slice(0, SESSION_NAME_LIMIT);
}

/** A positive whole number of milliseconds from TSOPS_KMS_TIMEOUT_MS, else the default. */
export function timeoutFrom(env: NodeJS.ProcessEnv): number {
  const raw = env['TSOPS_KMS_TIMEOUT_MS'];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_TIMEOUT_MS;
}

/** A KMS client for `settings`; the caller destroys it. Role assumption failures throw with a one-line reason. */
export async function kmsClient(settings: ClientSettings, keyArn: string): Promise<KMSClient> {
  const { KMSClient } = await import('@aws-sdk/client-kms');
  const common = commonConfig(settings);
  if (!settings.role) {
    return quietly(settings.log, () => new KMSClient({ ...common, ...(settings.profile ? { profile: settings.profile } : {}) }));
  }
  const credentials = await assumeRole(settings, settings.role, keyArn);
  return quietly(settings.log, () => new KMSClient({ ...common, credentials }));
}

/**
 * Clients shared by every file of a command, one per region and way of
 * signing in (profile, role, AWS_* environment): a tree of a thousand files
 * reuses one client's connections and, with a role, one AssumeRole, instead
 * of a new connection and an STS call per file. Concurrent first uses share
 * the one being made; a failed creation is forgotten so the next file tries
 * again. A client is replaced after SHARED_CLIENT_LIFETIME_MS, well within the
 * hour an assumed role's credentials last, so a long-lived library user never
 * holds expired ones. Idle keep-alive sockets do not hold the process open
 * (Node's agent unreferences them), so nothing needs closing at exit;
 * {@link closeSharedKmsClients} is for a process that wants them gone sooner.
 */
const SHARED_CLIENT_LIFETIME_MS = 10 * 60_000;
const shared = new Map<string, { client: Promise<KMSClient>; createdAt: number }>();

export function sharedKmsClient(settings: ClientSettings, keyArn: string, env: NodeJS.ProcessEnv = process.env): Promise<KMSClient> {
  const key = poolKey(settings, env);
  const now = Date.now();
  const entry = shared.get(key);
  if (entry && now - entry.createdAt < SHARED_CLIENT_LIFETIME_MS) return entry.client;
  if (entry) retire(entry.client, settings.timeoutMs * MAX_ATTEMPTS);
  const client = kmsClient(settings, keyArn);
  shared.set(key, { client, createdAt: now });
  client.catch(() => {
    if (shared.get(key)?.client === client) shared.delete(key);
  });
  sharedClientsCreated++;
  return client;
}

/** How many shared clients this process has created (for tests: one per region and credentials). */
export let sharedClientsCreated = 0;

/** Destroys every shared client (their sockets close); the next use creates new ones. */
export function closeSharedKmsClients(): void {
  for (const { client } of shared.values()) retire(client, 0);
  shared.clear();
}

/** Destroys a replaced client once the calls still using it have had their time. */
function retire(client: Promise<KMSClient>, afterMs: number): void {
  const destroy = (): void => void client.then((c) => c.destroy(), () => undefined);
  if (afterMs <= 0) destroy();
  else setTimeout(destroy, afterMs).unref();
}

/** Settings plus what the SDK reads from the environment (endpoints, credentials, profile), hashed: two keyrings that would build the same client share it. */
function poolKey(settings: ClientSettings, env: NodeJS.ProcessEnv): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([settings.region, settings.profile ?? '', settings.role ?? '', settings.timeoutMs]));
  for (const name of Object.keys(env).filter((n) => n.startsWith('AWS_')).sort()) hash.update(`\0${name}=${env[name]}`);
  return hash.digest('hex');
}

async function assumeRole(settings: ClientSettings, roleArn: string, keyArn: string) {
  const [{ STSClient, AssumeRoleCommand }, { defaultProvider }] = await Promise.all([
    import('@aws-sdk/nested-clients/sts'),
    import('@aws-sdk/credential-provider-node'),
  ]);
  const common = commonConfig(settings);
  const sts = quietly(settings.log, () => new STSClient({
    ...common,
    credentials: defaultProvider({ ...(settings.profile ? { profile: settings.profile } : {}), logger: common.logger }),
  }));
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: roleSessionName() }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`STS returned no credentials for role ${roleArn}`);
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
  } catch (e) {
    const reason = describeFailure(e, { action: 'sts:AssumeRole', arn: roleArn, region: settings.region, timeoutMs: settings.timeoutMs, profile: settings.profile });
    throw new Error(`could not assume role ${roleArn} for ${keyArn}: ${reason}`, { cause: e });
  } finally {
    sts.destroy();
  }
}

function commonConfig(settings: ClientSettings) {
  return {
    region: settings.region,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: settings.timeoutMs, requestTimeout: settings.timeoutMs, throwOnRequestTimeout: true },
    logger: sdkLogger(settings.log),
  };
}

/**
 * The SDK's warnings go to the verbose log, or nowhere; its debug and info
 * output never. Logged objects (request records that may hold key material)
 * are reduced to the client, command and error name.
 */
function sdkLogger(log: ((line: string) => void) | undefined) {
  const forward = (...parts: unknown[]): void => {
    if (!log) return;
    const text = parts.map(describeLogPart).filter((p) => p !== '').join(' ');
    if (text) log(`aws-sdk: ${joinLines(text, ' ')}`);
  };
  return { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: forward, error: forward };
}

function describeLogPart(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return part.name;
  if (part && typeof part === 'object') {
    const o = part as { clientName?: unknown; commandName?: unknown; error?: { name?: unknown } };
    const names = [o.clientName, o.commandName, o.error?.name].filter((x) => typeof x === 'string');
    return names.join(' ');
  }
  return '';
}
