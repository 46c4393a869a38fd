import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyWrapError, MalformedFileError, NoKeyError } from '../../src/errors.js';
import type { Keyring } from '../../src/keys/index.js';
import { createKmsKeyKind, roleSessionName } from '../../src/keys/kms/kind.js';
import { closeSharedKmsClients, sharedClientsCreated } from '../../src/keys/kms/clients.js';
import type { KeyRecord, MasterKeyKind } from '../../src/keys/masterkey.js';
import { startKmsServer, type KmsServer } from '../support/kms-server.js';
import { childEnv, isolatedAws, type IsolatedAws } from '../support/kms/test-env.js';
import { newDataKey, unwrapDataKey, wrapDataKey } from '../../src/sops/datakey.js';

const ACCOUNT = '444455556666';
const ALICE = { accessKeyId: 'AKIAALICE00000000001', secretAccessKey: 'alice-secret', arn: `arn:aws:iam::${ACCOUNT}:user/alice` };
const BOB = { accessKeyId: 'AKIABOB0000000000002', secretAccessKey: 'bob-secret', arn: `arn:aws:iam::${ACCOUNT}:user/bob` };
const DEPLOYER = `arn:aws:iam::${ACCOUNT}:role/deployer`;
const CI = `arn:aws:iam::${ACCOUNT}:role/ci`;
const US = `arn:aws:kms:us-east-1:${ACCOUNT}:key/aaaaaaaa-0000-0000-0000-000000000001`;
const EU = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/bbbbbbbb-0000-0000-0000-000000000002`;
const ROLE_ONLY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/cccccccc-0000-0000-0000-000000000003`;
const WEB_TOKEN = 'ci-web-identity-token';
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);

let server: KmsServer;
let aws: IsolatedAws;
let restoreEnv: () => void;
let kind: MasterKeyKind;

beforeAll(async () => {
  server = await startKmsServer({
    users: [ALICE, BOB],
    roles: [{ arn: DEPLOYER, trust: { principals: [ALICE.arn] } }, { arn: CI, trust: { webIdentityToken: WEB_TOKEN } }],
    keys: [
      { arn: US, allow: [ALICE.arn, CI] },
      { arn: EU, allow: [ALICE.arn] },
      { arn: ROLE_ONLY, allow: [DEPLOYER] },
    ],
  });
});
afterAll(() => server.close());

beforeEach(() => {
  aws = isolatedAws(server.env(ALICE.accessKeyId));
  restoreEnv = aws.apply();
  kind = createKmsKeyKind({});
});
afterEach(() => {
  restoreEnv();
  aws.cleanup();
});

const failureOf = (p: Promise<unknown>): Promise<Error> => p.then(() => { throw new Error('expected a failure'); }, (e: Error) => e);
const kmsCalls = () => server.requests.filter((r) => r.service === 'kms');

describe('wrap and unwrap through the real SDK', () => {
  it('stores the fields sops stores and gets the secret back', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const record = await kind.wrap({ type: 'kms', arn: US }, SECRET);
    expect(Object.keys(record.fields).sort()).toEqual(['arn', 'aws_profile', 'created_at', 'enc']);
    expect(record).toMatchObject({ type: 'kms', fields: { arn: US, aws_profile: '' } });
    const createdAt = String(record.fields['created_at']);
    expect(createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(createdAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(createdAt)).toBeLessThanOrEqual(Date.now());
    const enc = String(record.fields['enc']);
    expect(Buffer.from(enc, 'base64').toString('base64')).toBe(enc);
    expect(Buffer.from(await kind.unwrap(record)).equals(Buffer.from(SECRET))).toBe(true);
    expect(kmsCalls().slice(-2)).toMatchObject([
      { operation: 'Encrypt', keyArn: US, principal: ALICE.arn, signingRegion: 'us-east-1', outcome: 'ok' },
      { operation: 'Decrypt', keyArn: US, principal: ALICE.arn, signingRegion: 'us-east-1', outcome: 'ok' },
    ]);
  });

  it('stores the encryption context sorted, and needs it to decrypt', async () => {
    const record = await kind.wrap({ type: 'kms', arn: US, context: { zone: 'b', app: 'web' } }, SECRET);
    expect(Object.keys(record.fields['context'] as object)).toEqual(['app', 'zone']);
    expect(server.requests.at(-1)?.encryptionContext).toEqual({ app: 'web', zone: 'b' });
    expect(Buffer.from(await kind.unwrap(record)).equals(Buffer.from(SECRET))).toBe(true);
    expect(server.requests.at(-1)?.encryptionContext).toEqual({ app: 'web', zone: 'b' });

    const altered: KeyRecord = { type: 'kms', fields: { ...record.fields, context: { app: 'web', zone: 'c' } } };
    const mismatch = await failureOf(kind.unwrap(altered));
    expect(mismatch.message).toBe(`encryption context mismatch (or damaged ciphertext) for ${US} (InvalidCiphertextException)`);
    const withoutContext: KeyRecord = { type: 'kms', fields: { ...record.fields } };
    delete withoutContext.fields['context'];
    expect((await failureOf(kind.unwrap(withoutContext))).message).toMatch(/^encryption context mismatch/);
  });

  it('writes no context for an empty one', async () => {
    const record = await kind.wrap({ type: 'kms', arn: US, context: {} }, SECRET);
    expect(record.fields['context']).toBeUndefined();
    expect(server.requests.at(-1)?.encryptionContext).toBeUndefined();
  });

  it('stores one record per ARN across regions, each decryptable alone', async () => {
    const records = [await kind.wrap({ type: 'kms', arn: US }, SECRET), await kind.wrap({ type: 'kms', arn: EU }, SECRET)];
    expect(records.map((r) => r.fields['arn'])).toEqual([US, EU]);
    expect(kmsCalls().slice(-2).map((r) => r.signingRegion)).toEqual(['us-east-1', 'eu-west-1']);
    for (const [usable, disabled] of [[records[0]!, US], [records[1]!, EU]] as const) {
      const other = disabled === US ? EU : US;
      server.disableKey(other);
      try {
        expect(Buffer.from(await kind.unwrap(usable)).equals(Buffer.from(SECRET))).toBe(true);
      } finally {
        server.enableKey(other);
      }
    }
  });

  it('shares one client per region across calls and keyrings, even when the first calls overlap', async () => {
    closeSharedKmsClients();
    const before = sharedClientsCreated;
    const connectionsBefore = server.load.connections;
    const records = await Promise.all(Array.from({ length: 12 }, (_, i) => createKmsKeyKind({}).wrap({ type: 'kms', arn: i % 2 ? US : EU }, SECRET)));
    await Promise.all(records.map((r) => createKmsKeyKind({}).unwrap(r)));
    expect(sharedClientsCreated - before).toBe(2);
    expect(server.load.connections - connectionsBefore).toBeLessThan(24);
  });

  it('replaces a shared client after ten minutes, so assumed-role credentials never outlive it', async () => {
    closeSharedKmsClients();
    const start = Date.now();
    let now = start;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const before = sharedClientsCreated;
      const record = await kind.wrap({ type: 'kms', arn: US }, SECRET);
      now = start + 9 * 60_000;
      await kind.unwrap(record);
      expect(sharedClientsCreated - before).toBe(1);
      now = start + 11 * 60_000;
      expect(Buffer.from(await kind.unwrap(record)).equals(Buffer.from(SECRET))).toBe(true);
      expect(sharedClientsCreated - before).toBe(2);
    } finally {
      clock.mockRestore();
      closeSharedKmsClients();
    }
  });
});

describe('with the data-key layer', () => {
  it('moves on to the next KMS key when one fails, and lists every failure when all do', async () => {
    const keyring: Keyring = { kind: async (type) => { if (type !== 'kms') throw new Error(type); return kind; } };
    const dataKey = newDataKey();
    const [group] = await wrapDataKey(dataKey, [[{ type: 'kms', arn: EU }, { type: 'kms', arn: US }]], undefined, keyring);
    expect(group!.map((r) => r.fields['arn'])).toEqual([EU, US]);
    server.disableKey(EU);
    try {
      expect((await unwrapDataKey([group!], undefined, keyring, ['kms'])).equals(dataKey)).toBe(true);
      server.disableKey(US);
      const e = await failureOf(unwrapDataKey([group!], undefined, keyring, ['kms']));
      expect(e).toBeInstanceOf(NoKeyError);
      expect((e as NoKeyError).failures.map((f) => f.reason)).toEqual([`key disabled: ${EU} (DisabledException)`, `key disabled: ${US} (DisabledException)`]);
    } finally {
      server.enableKey(EU);
      server.enableKey(US);
    }
  });
});

describe('roles and credential sources', () => {
  it('assumes the role of arn+role first, for wrap and for unwrap', async () => {
    const record = await kind.wrap({ type: 'kms', arn: ROLE_ONLY, role: DEPLOYER }, SECRET);
    expect(record.fields['role']).toBe(DEPLOYER);
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/${roleSessionName()}`;
    expect(server.requests.slice(-2)).toMatchObject([
      { service: 'sts', operation: 'AssumeRole', principal: ALICE.arn, roleSessionName: roleSessionName(), outcome: 'ok' },
      { service: 'kms', operation: 'Encrypt', principal: session, outcome: 'ok' },
    ]);
    // The role's client is shared by later calls in the process: no second AssumeRole for the next file.
    expect(Buffer.from(await kind.unwrap(record)).equals(Buffer.from(SECRET))).toBe(true);
    expect(server.requests.slice(-2).map((r) => r.operation)).toEqual(['Encrypt', 'Decrypt']);
    closeSharedKmsClients();
    expect(Buffer.from(await kind.unwrap(record)).equals(Buffer.from(SECRET))).toBe(true);
    expect(server.requests.slice(-2).map((r) => r.operation)).toEqual(['AssumeRole', 'Decrypt']);

    const direct = await failureOf(kind.unwrap({ type: 'kms', fields: { ...record.fields, role: '' } }));
    expect(direct.message).toBe(`AccessDeniedException: ${ALICE.arn} may not kms:Decrypt ${ROLE_ONLY}`);
  });

  it('says which role could not be assumed and why', async () => {
    const undo = isolatedAws(server.env(BOB.accessKeyId)).apply();
    try {
      const e = await failureOf(kind.wrap({ type: 'kms', arn: ROLE_ONLY, role: DEPLOYER }, SECRET));
      expect(e).toBeInstanceOf(KeyWrapError);
      expect(e.message).toBe(`could not assume role ${DEPLOYER} for ${ROLE_ONLY}: AccessDenied: ${BOB.arn} may not sts:AssumeRole ${DEPLOYER}`);
    } finally {
      undo();
    }
  });

  it('uses the named AWS profile for wrap and unwrap', async () => {
    aws.writeCredentials(`[alice-profile]\naws_access_key_id = ${ALICE.accessKeyId}\naws_secret_access_key = ${ALICE.secretAccessKey}\n`);
    const undo = isolatedAws({ ...server.env(BOB.accessKeyId), AWS_SHARED_CREDENTIALS_FILE: process.env['AWS_SHARED_CREDENTIALS_FILE']! }).apply();
    try {
      const record = await kind.wrap({ type: 'kms', arn: US, awsProfile: 'alice-profile' }, SECRET);
      expect(record.fields['aws_profile']).toBe('alice-profile');
      expect(server.requests.at(-1)).toMatchObject({ principal: ALICE.arn, outcome: 'ok' });
      expect(Buffer.from(await kind.unwrap(record)).equals(Buffer.from(SECRET))).toBe(true);
      const noProfile = await failureOf(kind.unwrap({ type: 'kms', fields: { ...record.fields, aws_profile: '' } }));
      expect(noProfile.message).toBe(`AccessDeniedException: ${BOB.arn} may not kms:Decrypt ${US}`);
      const missing = await failureOf(kind.unwrap({ type: 'kms', fields: { ...record.fields, aws_profile: 'nope' } }));
      expect(missing.message).toMatch(new RegExp(`^no AWS credentials found for ${US} with profile nope \\(.+\\)$`));
    } finally {
      undo();
    }
  });

  it('uses web identity credentials (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), as CI systems provide', async () => {
    const tokenFile = join(aws.dir, 'token');
    writeFileSync(tokenFile, WEB_TOKEN);
    const undo = isolatedAws({ ...server.env(), AWS_ROLE_ARN: CI, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_SESSION_NAME: 'ci-job' }).apply();
    try {
      const record = await kind.wrap({ type: 'kms', arn: US }, SECRET);
      expect(server.requests.slice(-2)).toMatchObject([
        { service: 'sts', operation: 'AssumeRoleWithWebIdentity', outcome: 'ok' },
        { service: 'kms', operation: 'Encrypt', principal: `arn:aws:sts::${ACCOUNT}:assumed-role/ci/ci-job`, outcome: 'ok' },
      ]);
      expect(Buffer.from(await kind.unwrap(record)).equals(Buffer.from(SECRET))).toBe(true);
      writeFileSync(tokenFile, 'stolen-token');
      closeSharedKmsClients(); // as a new process would: the token is read again
      const e = await failureOf(createKmsKeyKind({}).unwrap(record));
      expect(e.message).toBe(`STS rejected the web identity token, so no credentials for ${US} (InvalidIdentityToken)`);
      expect(e.message).not.toContain('stolen-token');
    } finally {
      undo();
    }
  });
});

describe('failures', () => {
  it('names the ARN and the principal when access is denied', async () => {
    const undo = isolatedAws(server.env(BOB.accessKeyId)).apply();
    try {
      const e = await failureOf(kind.wrap({ type: 'kms', arn: US }, SECRET));
      expect(e).toBeInstanceOf(KeyWrapError);
      expect(e.message).toBe(`AccessDeniedException: ${BOB.arn} may not kms:Encrypt ${US}`);
    } finally {
      undo();
    }
  });

  it('says the key is disabled', async () => {
    const record = await kind.wrap({ type: 'kms', arn: EU }, SECRET);
    server.disableKey(EU);
    try {
      expect((await failureOf(kind.unwrap(record))).message).toBe(`key disabled: ${EU} (DisabledException)`);
    } finally {
      server.enableKey(EU);
    }
  });

  it('says the credentials were rejected, without the secret', async () => {
    const undo = isolatedAws({ ...server.env(), AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' }).apply();
    try {
      const e = await failureOf(kind.wrap({ type: 'kms', arn: US }, SECRET));
      expect(e.message).toBe(`AWS rejected the credentials for kms:Encrypt ${US} (InvalidSignatureException)`);
    } finally {
      undo();
    }
  });

  it('fails fast with a clear reason when KMS is unreachable', async () => {
    const closed = await freePort();
    const undo = isolatedAws({ ...server.env(ALICE.accessKeyId), AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${closed}` }).apply();
    try {
      const started = Date.now();
      const e = await failureOf(kind.wrap({ type: 'kms', arn: US }, SECRET));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(e.message).toBe(`KMS unreachable for ${US} (connect ECONNREFUSED 127.0.0.1:${closed})`);
    } finally {
      undo();
    }
  });

  it('gives up on a KMS that never answers within the configured bound', async () => {
    const held = new Set<Socket>();
    const silent = createServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const undo = isolatedAws({ ...server.env(ALICE.accessKeyId), AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${port}` }).apply();
    try {
      const started = Date.now();
      const log: string[] = [];
      const e = await failureOf(createKmsKeyKind({ env: { TSOPS_KMS_TIMEOUT_MS: '300' }, log: (line) => log.push(line) }).wrap({ type: 'kms', arn: US }, SECRET));
      expect(Date.now() - started).toBeLessThan(4000);
      expect(held.size).toBe(3); // maxAttempts
      expect(log.join('\n')).not.toContain(Buffer.from(SECRET).toString('base64'));
      expect(e.message).toBe(`KMS did not answer within 300 ms for ${US}`);
    } finally {
      undo();
      for (const socket of held) socket.destroy();
      await closeServer(silent);
    }
  });

  it('rejects malformed records before calling KMS', async () => {
    const calls = server.requests.length;
    const cases: [Record<string, string>, RegExp][] = [
      [{ enc: 'AAAA' }, /^KMS key entry has no arn$/],
      [{ arn: US }, /has no enc$/],
      [{ arn: US, enc: 'not base64!' }, /not base64$/],
      [{ arn: 'arn:aws:kms:key/x', enc: 'AAAA' }, /^not a KMS key ARN: arn:aws:kms:key\/x$/],
    ];
    for (const [fields, message] of cases) {
      const e = await failureOf(kind.unwrap({ type: 'kms', fields }));
      expect(e).toBeInstanceOf(MalformedFileError);
      expect(e.message).toMatch(message);
    }
    expect((await failureOf(kind.unwrap({ type: 'kms', fields: { arn: US, enc: 'AAAA', context: 'a:b' } }))).message).toMatch(/context that is not a map/);
    expect((await failureOf(kind.wrap({ type: 'kms', arn: 'alias/short' }, SECRET))).message).toBe('not a KMS key ARN: alias/short');
    expect((await failureOf(kind.wrap({ type: 'age', recipient: 'age1x' }, SECRET)))).toBeInstanceOf(KeyWrapError);
    expect(server.requests.length).toBe(calls);
  });
});

describe('SDK chatter', () => {
  const script = fileURLToPath(new URL('../support/kms/wrap-once.ts', import.meta.url));
  const run = (mode: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, US, mode], { env: childEnv(aws.env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  it('writes nothing to stderr unless verbose, and sends warnings to the verbose log', async () => {
    const quiet = await run('quiet');
    expect(quiet.stdout).toMatch(/^OK [A-Za-z0-9+/]+=*\n$/);
    expect(quiet.stderr).toBe('');
    const verbose = await run('verbose');
    expect(verbose.stderr).toBe('');
    expect(verbose.stdout).toMatch(/\nOK /);
    // The SDK warns about Node versions it will soon drop; under newer Node there is nothing to see.
    if (Number(process.versions.node.split('.')[0]) < 22) expect(verbose.stdout).toMatch(/^LOG aws-sdk: NodeVersionSupportWarning/m);
  });
});

async function freePort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await closeServer(s);
  return port;
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}
