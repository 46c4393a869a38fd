/**
 * A CI job decrypting with a KMS role, end to end through the CLI and the real
 * AWS SDK, against the local KMS + STS server (no network, no real account).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKmsServer, type KmsServer } from '../support/kms-server.js';
import { TSOPS } from '../support/cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';

const ACCOUNT = '111122223333';
const ADMIN = `arn:aws:iam::${ACCOUNT}:user/admin`;
const CI_ROLE = `arn:aws:iam::${ACCOUNT}:role/ci`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/other-team`;
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-1111-1111-1111-111111111111`;

let server: KmsServer;
let dir: string;
let age: { identity: string; recipient: string };

beforeAll(async () => {
  server = await startKmsServer({
    users: [{ accessKeyId: 'AKIAADMINADMIN000001', secretAccessKey: 'admin-secret', arn: ADMIN }],
    roles: [
      { arn: CI_ROLE, trust: { webIdentityToken: 'ci-token' } },
      { arn: OTHER_ROLE, trust: { webIdentityToken: 'other-token' } },
    ],
    keys: [{ arn: KEY, allow: [ADMIN, CI_ROLE] }],
  });
  dir = mkdtempSync(join(tmpdir(), 'tsops-kms-ci-'));
  age = await throwawayAgeKey();
  writeFileSync(join(dir, 'ci-token'), 'ci-token');
  writeFileSync(join(dir, 'other-token'), 'other-token');
  writeFileSync(join(dir, 'secrets.yaml'), 'db_password: hunter2\nport: 5432\n');
  const enc = await run(['encrypt', '--kms', KEY, '--age', age.recipient, '--encryption-context', 'app:web', 'secrets.yaml'], { ...server.env('AKIAADMINADMIN000001') });
  expect(enc.stderr).toBe('');
  writeFileSync(join(dir, 'secrets.enc.yaml'), enc.stdout);
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Only what a CI job has: the role, its token file, the endpoints; nothing from this machine's user. */
function ciEnv(roleArn: string, tokenFile: string, extra: Record<string, string> = {}): Record<string, string> {
  const endpoints = server.env();
  return {
    AWS_ROLE_ARN: roleArn,
    AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, tokenFile),
    AWS_ENDPOINT_URL_KMS: endpoints['AWS_ENDPOINT_URL_KMS']!,
    AWS_ENDPOINT_URL_STS: endpoints['AWS_ENDPOINT_URL_STS']!,
    ...extra,
  };
}

/** Asynchronous on purpose: the KMS server answers from this same process. */
function run(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TSOPS, ...args], {
    cwd: dir,
    env: {
      PATH: process.env['PATH'],
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'no-config'),
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      TSOPS_KMS_TIMEOUT_MS: '20000',
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

describe('CI with a KMS role (web identity)', () => {
  it('reads a value through the role', async () => {
    const text = await run(['decrypt', '--ignore-mac', '--extract', '["port"]', 'secrets.enc.yaml'], ciEnv(CI_ROLE, 'ci-token'));
    expect(text.stdout).toBe('5432\n');
  });

  it('decrypt works through the role, with no key file at all', async () => {
    const r = await run(['decrypt', 'secrets.enc.yaml'], ciEnv(CI_ROLE, 'ci-token'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('db_password: hunter2\nport: 5432\n');
  });

  it('exec-env works through the role too', async () => {
    const r = await run(['exec-env', 'secrets.enc.yaml', '--', 'sh', '-c', 'printf "%s:%s" "$db_password" "$port"'], ciEnv(CI_ROLE, 'ci-token'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hunter2:5432');
    expect(r.status).toBe(0);
  });

  it('a role the key policy does not allow fails with a clear AccessDenied and exit 128', async () => {
    const r = await run(['decrypt', 'secrets.enc.yaml'], ciEnv(OTHER_ROLE, 'other-token'));
    expect(r.status).toBe(128);
    expect(r.stderr).toMatch(/AccessDenied/);
    expect(r.stderr).toContain(KEY);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('a KMS + age file still decrypts with the age key when KMS is unreachable', async () => {
    const r = await run(['decrypt', '--decryption-order', 'kms,age', 'secrets.enc.yaml'], {
      ...ciEnv(CI_ROLE, 'ci-token', { AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9' }),
      SOPS_AGE_KEY: age.identity,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('db_password: hunter2');
  });
});

describe('KMS files and other implementations', () => {
  it('sops-decoder (an independent decryptor on the AWS SDK, MAC verified) reads a tsops KMS file', async () => {
    writeFileSync(join(dir, 'app.json'), '{"db": {"password": "hunter2", "port": 5432}, "flag": true}\n');
    const enc = await run(['encrypt', '--kms', KEY, '--encryption-context', 'app:web', 'app.json'], { ...server.env('AKIAADMINADMIN000001') });
    expect(enc.stderr).toBe('');
    writeFileSync(join(dir, 'app.enc.json'), enc.stdout);
    const vars = { ...server.env('AKIAADMINADMIN000001'), AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      const { decodeFile } = await import('sops-decoder');
      expect(await decodeFile(join(dir, 'app.enc.json'))).toEqual({ db: { password: 'hunter2', port: 5432 }, flag: true });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('the KMS entry is written in sops\'s exact layout, and tsops decrypts such a file', async () => {
    const text = (await import('node:fs')).readFileSync(join(dir, 'secrets.enc.yaml'), 'utf8');
    expect(text).toMatch(
      /\n {4}kms:\n {8}- arn: arn:aws:kms:eu-west-1:111122223333:key\/[0-9-]+\n {10}aws_profile: ""\n {10}context:\n {12}app: web\n {10}created_at: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\n {10}enc: [A-Za-z0-9+/=]+\n/,
    );
    const r = await run(['decrypt', 'secrets.enc.yaml'], ciEnv(CI_ROLE, 'ci-token'));
    expect(r.stdout).toBe('db_password: hunter2\nport: 5432\n');
  });
});
