/**
 * A local AWS KMS + STS server for tests, speaking the real wire protocols so
 * the real AWS SDK talks to it unchanged via AWS_ENDPOINT_URL_KMS / _STS.
 * Loopback only; every request must carry a valid SigV4 signature by known
 * credentials (except STS AssumeRoleWithWebIdentity, unsigned as in AWS).
 *
 * As a script: `npx tsx test/support/kms-server.ts [config.json] [--lifetime seconds] [--latency-ms n]`
 * prints one JSON line `{kmsUrl, stsUrl, env}` and serves until killed or the lifetime ends.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { listenLoopback, readBody } from './http-server.js';
import { handleKms } from './kms/kms-api.js';
import { verifySignature } from './kms/sigv4.js';
import { ApiError, ServerState, type KmsServerConfig, type RequestRecord } from './kms/state.js';
import { handleSts, stsErrorResponse } from './kms/sts-api.js';

export type { KeyConfig, KeyGrant, KmsAction, KmsServerConfig, RequestRecord, RoleConfig, UserConfig } from './kms/state.js';

export interface KmsServer {
  kmsUrl: string;
  stsUrl: string;
  /** Every request seen, oldest first (bounded); no plaintext or secrets. */
  readonly requests: RequestRecord[];
  /** KMS connections accepted, and the most KMS requests ever in progress at once. */
  readonly load: { connections: number; maxInFlight: number };
  /** Starts counting `load` afresh. */
  resetLoad(): void;
  disableKey(arn: string): void;
  enableKey(arn: string): void;
  /** The endpoint variables the AWS SDK reads, plus the static credentials of `accessKeyId` (a configured user) if given. */
  env(accessKeyId?: string): Record<string, string>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;

export async function startKmsServer(config: KmsServerConfig = {}): Promise<KmsServer> {
  const state = new ServerState(config);
  const inFlight = { now: 0, max: 0, connectionsBefore: 0 };
  const kms = await listenLoopback((req, res) => {
    inFlight.max = Math.max(inFlight.max, ++inFlight.now);
    res.once('close', () => inFlight.now--);
    void delay(config.latencyMs).then(() => serve(state, 'kms', req, res));
  });
  const sts = await listenLoopback((req, res) => void serve(state, 'sts', req, res));
  const kmsUrl = kms.url;
  const stsUrl = sts.url;
  let closing: Promise<void> | undefined;
  return {
    kmsUrl,
    stsUrl,
    requests: state.requests,
    get load() {
      return { connections: kms.connections - inFlight.connectionsBefore, maxInFlight: inFlight.max };
    },
    resetLoad() {
      inFlight.max = inFlight.now;
      inFlight.connectionsBefore = kms.connections;
    },
    disableKey: (arn) => state.setEnabled(arn, false),
    enableKey: (arn) => state.setEnabled(arn, true),
    env(accessKeyId) {
      const env: Record<string, string> = { AWS_ENDPOINT_URL_KMS: kmsUrl, AWS_ENDPOINT_URL_STS: stsUrl };
      if (accessKeyId !== undefined) {
        const user = state.users.get(accessKeyId);
        if (!user) throw new Error(`no such user: ${accessKeyId}`);
        env['AWS_ACCESS_KEY_ID'] = user.accessKeyId;
        env['AWS_SECRET_ACCESS_KEY'] = user.secretAccessKey;
      }
      return env;
    },
    close() {
      closing ??= Promise.all([kms.close(), sts.close()]).then(() => undefined);
      return closing;
    },
  };
}

async function serve(state: ServerState, service: 'kms' | 'sts', req: IncomingMessage, res: ServerResponse): Promise<void> {
  const record: RequestRecord = { service, operation: '', outcome: 'ok' };
  try {
    const body = await readBody(req, MAX_BODY_BYTES, () => new ApiError(413, 'RequestEntityTooLarge', 'request body too large'));
    if (req.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'only POST is served');
    const signed = { method: req.method, url: req.url ?? '/', headers: req.headers, body };
    if (service === 'kms') {
      const target = String(req.headers['x-amz-target'] ?? '');
      record.operation = target.replace(/^TrentService\./, '');
      const { caller, region } = await verifySignature(state, 'kms', signed);
      record.principal = caller.arn;
      record.signingRegion = region;
      const output = handleKms(state, target, parseJson(body), caller, region, record);
      reply(res, 200, 'application/x-amz-json-1.1', JSON.stringify(output));
    } else {
      const params = new URLSearchParams(body.toString('utf8'));
      record.operation = params.get('Action') ?? '';
      const unsigned = record.operation === 'AssumeRoleWithWebIdentity' && req.headers['authorization'] === undefined;
      const caller = unsigned ? undefined : (await verifySignature(state, 'sts', signed)).caller;
      if (caller) record.principal = caller.arn;
      reply(res, 200, 'text/xml', handleSts(state, params, caller, record));
    }
  } catch (e) {
    const error = e instanceof ApiError ? e : new ApiError(500, service === 'kms' ? 'KMSInternalException' : 'InternalFailure', 'internal server error');
    if (!(e instanceof ApiError)) console.error('kms-server:', e);
    record.outcome = error.code;
    if (service === 'kms') {
      res.setHeader('x-amzn-ErrorType', error.code);
      reply(res, error.status, 'application/x-amz-json-1.1', JSON.stringify({ __type: error.code, message: error.message }));
    } else {
      reply(res, error.status, 'text/xml', stsErrorResponse(error));
    }
  } finally {
    state.log(record);
  }
}

function delay(ms: number | undefined): Promise<void> {
  return ms ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': contentType, 'x-amzn-RequestId': randomUUID(), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function parseJson(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.length ? body.toString('utf8') : '{}');
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ApiError(400, 'SerializationException', 'request body is not a JSON object');
}

async function main(args: string[]): Promise<void> {
  const lifetimeAt = args.indexOf('--lifetime');
  const lifetimeSeconds = lifetimeAt >= 0 ? Number(args[lifetimeAt + 1]) : 3600;
  const latencyAt = args.indexOf('--latency-ms');
  const optionValues = new Set([lifetimeAt, latencyAt].filter((i) => i >= 0).map((i) => i + 1));
  const configPath = args.find((a, i) => !a.startsWith('--') && !optionValues.has(i));
  const config = configPath ? (JSON.parse(readFileSync(configPath, 'utf8')) as KmsServerConfig) : demoConfig();
  if (latencyAt >= 0) config.latencyMs = Number(args[latencyAt + 1]);
  const server = await startKmsServer(config);
  const firstUser = config.users?.[0]?.accessKeyId;
  process.stdout.write(`${JSON.stringify({ kmsUrl: server.kmsUrl, stsUrl: server.stsUrl, env: server.env(firstUser) })}\n`);
  const shutdown = (): void => void server.close().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  setTimeout(shutdown, Math.max(1, lifetimeSeconds) * 1000).unref();
  // keep the process alive while serving; the timer above is unref'd so closing ends it
  await new Promise<void>(() => undefined);
}

/** One user, one key per region, one role it may assume, one web-identity role. */
export function demoConfig(): KmsServerConfig {
  const account = '111122223333';
  const user = `arn:aws:iam::${account}:user/tester`;
  const ciRole = `arn:aws:iam::${account}:role/ci`;
  return {
    users: [{ accessKeyId: 'AKIATESTTESTTEST0001', secretAccessKey: 'test-secret-access-key', arn: user }],
    roles: [
      { arn: `arn:aws:iam::${account}:role/deployer`, trust: { principals: [user] } },
      { arn: ciRole, trust: { webIdentityToken: 'test-web-identity-token' } },
    ],
    keys: [
      { arn: `arn:aws:kms:us-east-1:${account}:key/11111111-1111-1111-1111-111111111111`, allow: [user, ciRole, `arn:aws:iam::${account}:role/deployer`] },
      { arn: `arn:aws:kms:eu-west-1:${account}:key/22222222-2222-2222-2222-222222222222`, allow: [user, ciRole] },
    ],
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`kms-server: ${(e as Error).message}`);
    process.exit(1);
  });
}
