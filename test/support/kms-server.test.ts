import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/nested-clients/sts';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig, startKmsServer, type KmsServer } from './kms-server.js';
import { canonicalContext, open, seal } from './kms/ciphertext.js';
import { NodeSha256 } from './kms/sigv4.js';
import { isolatedAws } from './kms/test-env.js';

const ACCOUNT = '111122223333';
const ALICE = { accessKeyId: 'AKIAALICE00000000001', secretAccessKey: 'alice-secret', arn: `arn:aws:iam::${ACCOUNT}:user/alice` };
const BOB = { accessKeyId: 'AKIABOB0000000000002', secretAccessKey: 'bob-secret', arn: `arn:aws:iam::${ACCOUNT}:user/bob` };
const DEPLOYER = `arn:aws:iam::${ACCOUNT}:role/deployer`;
const CI = `arn:aws:iam::${ACCOUNT}:role/ci`;
const KEY_A = `arn:aws:kms:us-east-1:${ACCOUNT}:key/aaaaaaaa-0000-0000-0000-000000000001`;
const KEY_B = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/bbbbbbbb-0000-0000-0000-000000000002`;
const KEY_DECRYPT_ONLY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/cccccccc-0000-0000-0000-000000000003`;
const WEB_TOKEN = 'expected-web-identity-token';

let server: KmsServer;
const aws = isolatedAws({});
let restoreEnv: () => void;

beforeAll(async () => {
  server = await startKmsServer({
    users: [ALICE, BOB],
    roles: [
      { arn: DEPLOYER, trust: { principals: [ALICE.arn] } },
      { arn: CI, trust: { webIdentityToken: WEB_TOKEN } },
    ],
    keys: [
      { arn: KEY_A, allow: [ALICE.arn, DEPLOYER, CI], aliases: ['alias/app'] },
      { arn: KEY_B, allow: [ALICE.arn] },
      { arn: KEY_DECRYPT_ONLY, allow: [ALICE.arn, { principal: BOB.arn, actions: ['Decrypt'] }] },
    ],
  });
  Object.assign(aws.env, server.env());
  restoreEnv = aws.apply();
});

afterAll(async () => {
  await server.close();
  restoreEnv();
  aws.cleanup();
});

const creds = (u: { accessKeyId: string; secretAccessKey: string }, sessionToken?: string) => ({ accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey, sessionToken });
const kms = (region: string, credentials: ReturnType<typeof creds>) => new KMSClient({ region, credentials, maxAttempts: 1 });
const sts = (credentials?: ReturnType<typeof creds>) => new STSClient({ region: 'us-east-1', maxAttempts: 1, ...(credentials ? { credentials } : {}) });
const errorOf = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: Error) => e);

/** A KMS request signed like the SDK signs it, then altered by `tamper` before sending. */
async function rawKms(operation: string, input: unknown, signer: { accessKeyId: string; secretAccessKey: string }, tamper: (r: { headers: Record<string, string>; body: string }) => void = () => {}, declarePayloadHash = false) {
  const url = new URL(server.kmsUrl);
  const body = JSON.stringify(input);
  const request = {
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` } as Record<string, string>,
    body,
  };
  const signed = await new SignatureV4({ credentials: signer, region: 'us-east-1', service: 'kms', sha256: NodeSha256, applyChecksum: declarePayloadHash }).sign(request);
  const sent = { headers: { ...(signed.headers as Record<string, string>) }, body };
  tamper(sent);
  delete sent.headers['host'];
  const res = await fetch(server.kmsUrl, { method: 'POST', headers: sent.headers, body: sent.body });
  return { status: res.status, body: (await res.json()) as { __type?: string; message?: string; CiphertextBlob?: string } };
}

describe('SigV4 verification', () => {
  it('accepts what the SDK signs and records the signer', async () => {
    const out = await kms('us-east-1', creds(ALICE)).send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('x') }));
    expect(out.KeyId).toBe(KEY_A);
    expect(server.requests.at(-1)).toMatchObject({ service: 'kms', operation: 'Encrypt', principal: ALICE.arn, keyArn: KEY_A, signingRegion: 'us-east-1', outcome: 'ok' });
  });

  it('accepts an untampered raw request', async () => {
    const res = await rawKms('Encrypt', { KeyId: KEY_A, Plaintext: 'eA==' }, ALICE);
    expect(res.status).toBe(200);
    expect(res.body.CiphertextBlob).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('rejects a tampered signature, a tampered body, a tampered signed header', async () => {
    const flip = (r: { headers: Record<string, string> }) => {
      r.headers['authorization'] = r.headers['authorization']!.replace(/Signature=(.)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
    };
    const body = (r: { body: string }) => { r.body = r.body.replace('eA==', 'eQ=='); };
    const target = (r: { headers: Record<string, string> }) => { r.headers['x-amz-target'] = 'TrentService.Decrypt'; };
    for (const [tamper, declarePayloadHash] of [[flip, false], [body, false], [body, true], [target, false]] as const) {
      const res = await rawKms('Encrypt', { KeyId: KEY_A, Plaintext: 'eA==' }, ALICE, tamper, declarePayloadHash);
      expect(res.status).toBe(400);
      expect(res.body.__type).toBe('InvalidSignatureException');
    }
    expect((await rawKms('Encrypt', { KeyId: KEY_A, Plaintext: 'eA==' }, ALICE, () => {}, true)).status).toBe(200);
  });

  it('rejects an unknown access key id, a wrong secret and a missing signature', async () => {
    const unknown = await rawKms('Encrypt', { KeyId: KEY_A, Plaintext: 'eA==' }, { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' });
    expect(unknown.body.__type).toBe('UnrecognizedClientException');
    const wrongSecret = await rawKms('Encrypt', { KeyId: KEY_A, Plaintext: 'eA==' }, { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-alice' });
    expect(wrongSecret.body.__type).toBe('InvalidSignatureException');
    const unsigned = await rawKms('Encrypt', { KeyId: KEY_A, Plaintext: 'eA==' }, ALICE, (r) => { delete r.headers['authorization']; });
    expect(unsigned.body.__type).toBe('MissingAuthenticationTokenException');
    expect(server.requests.at(-1)).toMatchObject({ outcome: 'MissingAuthenticationTokenException' });
  });

  it('rejects a request dated too far from now', async () => {
    const url = new URL(server.kmsUrl);
    const signed = await new SignatureV4({ credentials: ALICE, region: 'us-east-1', service: 'kms', sha256: NodeSha256 }).sign(
      { method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', query: {}, headers: { host: url.host, 'x-amz-target': 'TrentService.DescribeKey' }, body: `{"KeyId":"${KEY_A}"}` },
      { signingDate: new Date(Date.now() - 60 * 60 * 1000) },
    );
    const headers = { ...(signed.headers as Record<string, string>) };
    delete headers['host'];
    const res = await fetch(server.kmsUrl, { method: 'POST', headers, body: `{"KeyId":"${KEY_A}"}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/too far/);
  });
});

describe('KMS operations', () => {
  const alice = () => kms('us-east-1', creds(ALICE));

  it('binds the ciphertext to the encryption context, in any key order', async () => {
    const enc = await alice().send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('secret'), EncryptionContext: { app: 'web', env: 'prod' } }));
    const same = await alice().send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { env: 'prod', app: 'web' } }));
    expect(Buffer.from(same.Plaintext!).toString()).toBe('secret');
    for (const context of [{ app: 'web', env: 'dev' }, { app: 'web' }, undefined] as (Record<string, string> | undefined)[]) {
      const e = await errorOf(alice().send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, ...(context ? { EncryptionContext: context } : {}) })));
      expect(e.name).toBe('InvalidCiphertextException');
    }
    expect(JSON.stringify(server.requests)).not.toContain(Buffer.from('secret').toString('base64'));
  });

  it('rejects damaged ciphertext and a KeyId that is not the blob key', async () => {
    const enc = await alice().send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('secret') }));
    const damaged = Buffer.from(enc.CiphertextBlob!);
    damaged[damaged.length - 1]! ^= 1;
    expect((await errorOf(alice().send(new DecryptCommand({ CiphertextBlob: damaged })))).name).toBe('InvalidCiphertextException');
    expect((await errorOf(alice().send(new DecryptCommand({ CiphertextBlob: Buffer.from('garbage') })))).name).toBe('InvalidCiphertextException');
    expect((await errorOf(alice().send(new DecryptCommand({ KeyId: KEY_DECRYPT_ONLY, CiphertextBlob: enc.CiphertextBlob })))).name).toBe('IncorrectKeyException');
  });

  it('resolves aliases and key ids in the key region only', async () => {
    const byAlias = await alice().send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: Buffer.from('x') }));
    expect(byAlias.KeyId).toBe(KEY_A);
    const byAliasArn = await alice().send(new EncryptCommand({ KeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/app`, Plaintext: Buffer.from('x') }));
    expect(byAliasArn.KeyId).toBe(KEY_A);
    const elsewhere = await errorOf(kms('eu-west-1', creds(ALICE)).send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('x') })));
    expect(elsewhere.name).toBe('NotFoundException');
  });

  it('generates data keys that decrypt to the same bytes', async () => {
    const out = await alice().send(new GenerateDataKeyCommand({ KeyId: KEY_A, KeySpec: 'AES_256', EncryptionContext: { a: 'b' } }));
    expect(out.Plaintext).toHaveLength(32);
    const back = await alice().send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: { a: 'b' } }));
    expect(Buffer.from(back.Plaintext!).equals(Buffer.from(out.Plaintext!))).toBe(true);
  });

  it('enforces the key policy per principal and action', async () => {
    const bob = kms('us-east-1', creds(BOB));
    const denied = await errorOf(bob.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('x') })));
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain(`User: ${BOB.arn} is not authorized to perform: kms:Encrypt on resource: ${KEY_A}`);
    const enc = await alice().send(new EncryptCommand({ KeyId: KEY_DECRYPT_ONLY, Plaintext: Buffer.from('x') }));
    expect((await errorOf(bob.send(new EncryptCommand({ KeyId: KEY_DECRYPT_ONLY, Plaintext: Buffer.from('x') })))).name).toBe('AccessDeniedException');
    expect(Buffer.from((await bob.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe('x');
  });

  it('refuses a disabled key until it is enabled again, and describes its state', async () => {
    const eu = kms('eu-west-1', creds(ALICE));
    const blob = (await eu.send(new EncryptCommand({ KeyId: KEY_B, Plaintext: Buffer.from('x') }))).CiphertextBlob;
    server.disableKey(KEY_B);
    try {
      expect((await errorOf(eu.send(new EncryptCommand({ KeyId: KEY_B, Plaintext: Buffer.from('x') })))).name).toBe('DisabledException');
      expect((await errorOf(eu.send(new DecryptCommand({ CiphertextBlob: blob })))).name).toBe('DisabledException');
      expect((await eu.send(new DescribeKeyCommand({ KeyId: KEY_B }))).KeyMetadata).toMatchObject({ Arn: KEY_B, Enabled: false, KeyState: 'Disabled' });
    } finally {
      server.enableKey(KEY_B);
    }
    expect(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('x');
  });
});

describe('STS', () => {
  it('AssumeRole issues credentials that act as the role session', async () => {
    const out = await sts(creds(ALICE)).send(new AssumeRoleCommand({ RoleArn: DEPLOYER, RoleSessionName: 'sops@test-host' }));
    const c = out.Credentials!;
    expect(c.AccessKeyId).toMatch(/^ASIA/);
    expect(c.Expiration!.getTime()).toBeGreaterThan(Date.now() + 50 * 60 * 1000);
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/deployer/sops@test-host`);
    const session = kms('us-east-1', { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken });
    await session.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('x') }));
    expect(server.requests.at(-1)).toMatchObject({ principal: out.AssumedRoleUser?.Arn, outcome: 'ok' });
    const denied = await errorOf(session.send(new EncryptCommand({ KeyId: KEY_DECRYPT_ONLY, Plaintext: Buffer.from('x') })));
    expect(denied.name).toBe('AccessDeniedException');
    const badToken = kms('us-east-1', { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: 'forged' });
    expect((await errorOf(badToken.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('x') })))).name).toBe('UnrecognizedClientException');
  });

  it('AssumeRole refuses untrusted callers, bad session names and unsigned calls', async () => {
    const untrusted = await errorOf(sts(creds(BOB)).send(new AssumeRoleCommand({ RoleArn: DEPLOYER, RoleSessionName: 'x-y' })));
    expect(untrusted.name).toBe('AccessDenied');
    expect(untrusted.message).toContain(`User: ${BOB.arn} is not authorized to perform: sts:AssumeRole on resource: ${DEPLOYER}`);
    const badName = await errorOf(sts(creds(ALICE)).send(new AssumeRoleCommand({ RoleArn: DEPLOYER, RoleSessionName: 'has space' })));
    expect(badName.name).toBe('ValidationError');
    const unknownSigner = await errorOf(sts(creds({ accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: 'x' })).send(new AssumeRoleCommand({ RoleArn: DEPLOYER, RoleSessionName: 'xy' })));
    expect(unknownSigner.name).toBe('InvalidClientTokenId');
    const res = await fetch(server.stsUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `Action=AssumeRole&Version=2011-06-15&RoleArn=${DEPLOYER}&RoleSessionName=xy` });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });

  it('AssumeRoleWithWebIdentity checks the token', async () => {
    const ok = await sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: CI, RoleSessionName: 'ci-run', WebIdentityToken: WEB_TOKEN }));
    expect(ok.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ci/ci-run`);
    expect(ok.Credentials?.SessionToken).toBeTruthy();
    const wrong = await errorOf(sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: CI, RoleSessionName: 'ci-run', WebIdentityToken: 'other-token' })));
    expect(wrong.name).toBe('InvalidIdentityTokenException');
    const notFederated = await errorOf(sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: DEPLOYER, RoleSessionName: 'ci-run', WebIdentityToken: WEB_TOKEN })));
    expect(notFederated.name).toBe('AccessDenied');
    expect(JSON.stringify(server.requests)).not.toContain(WEB_TOKEN);
  });
});

describe('ciphertext blobs', () => {
  const material = Buffer.alloc(32, 9);
  const context = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 });

  it('open(seal(x)) = x under the same context; any other context fails', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), context, context, (plaintext, ctx, other) => {
      const blob = seal(KEY_A, material, Buffer.from(plaintext), ctx);
      expect(open(blob, material, ctx).equals(Buffer.from(plaintext))).toBe(true);
      if (!canonicalContext(ctx).equals(canonicalContext(other))) expect(() => open(blob, material, other)).toThrow();
    }));
  });

  it('a blob does not open under another key material', () => {
    const blob = seal(KEY_A, material, Buffer.from('x'), undefined);
    expect(() => open(blob, Buffer.alloc(32, 8), undefined)).toThrow(/authenticate/);
  });
});

describe('lifecycle', () => {
  it('listens on loopback only and refuses connections once closed', async () => {
    const s = await startKmsServer(demoConfig());
    expect(new URL(s.kmsUrl).hostname).toBe('127.0.0.1');
    expect(new URL(s.stsUrl).hostname).toBe('127.0.0.1');
    expect(s.env('AKIATESTTESTTEST0001')).toMatchObject({ AWS_ENDPOINT_URL_KMS: s.kmsUrl, AWS_ACCESS_KEY_ID: 'AKIATESTTESTTEST0001' });
    expect(() => s.env('AKIANOSUCHUSER000000')).toThrow(/no such user/);
    await Promise.all([s.close(), s.close()]);
    await expect(fetch(s.kmsUrl, { method: 'POST' })).rejects.toThrow();
  });

  it('rejects bad configuration', async () => {
    await expect(startKmsServer({ keys: [{ arn: 'arn:aws:kms:us-east-1:1:key/x', allow: [] }] })).rejects.toThrow(/not a KMS key ARN/);
    await expect(startKmsServer({ roles: [{ arn: 'role/x', trust: {} }] })).rejects.toThrow(/not a role ARN/);
    expect(() => server.disableKey('arn:aws:kms:us-east-1:1:key/none')).toThrow(/no such key/);
  });

  it('runs as a script, printing its endpoints, until its lifetime ends', async () => {
    const script = fileURLToPath(new URL('./kms-server.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--lifetime', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const info = JSON.parse(first) as { kmsUrl: string; env: Record<string, string> };
    expect(info.env['AWS_ENDPOINT_URL_KMS']).toBe(info.kmsUrl);
    const res = await fetch(info.kmsUrl, { method: 'POST', body: '{}' });
    expect(res.status).toBe(400);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
  });
});
