/**
 * publish: destination_rules picked as sops picks them, files sent to a loopback
 * Vault (KV v1/v2, token checked) and a loopback S3 (SigV4 checked) by the built
 * CLI. The CLI runs asynchronously: the servers live in this process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INTEROP, sandbox, spawnTsops, TSOPS, type Sandbox } from '../support/cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';
import { listenLoopback } from '../support/http-server.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import { startVaultServer, type VaultServer } from '../support/vault-server.js';

const TOKEN = 'test-vault-token';
const USER = { accessKeyId: 'AKIATESTPUBLISH00001', secretAccessKey: 'publish-test-secret', arn: 'arn:aws:iam::111122223333:user/publisher' };

let sb: Sandbox;
let vault: VaultServer;
let s3: S3Server;
let other: { identity: string; recipient: string };
beforeAll(async () => {
  sb = await sandbox();
  other = await throwawayAgeKey();
  vault = await startVaultServer({ token: TOKEN, mounts: { secret: 2, kv1: 1 } });
  s3 = await startS3Server({ users: [USER], buckets: ['team-bucket', 'locked-bucket'], readOnly: ['locked-bucket'] });
});
afterAll(async () => {
  await Promise.all([vault?.close(), s3?.close()]);
  sb?.cleanup();
});

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const child = spawnTsops(args, { ...sb.env, ...env }, cwd);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let n = 0;
/** A directory with a config and encrypted files (path -> plaintext YAML/JSON). */
async function project(config: string, files: Record<string, string>): Promise<string> {
  const dir = join(sb.dir, `p${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, '.sops.yaml'), config);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
    const r = await run(['encrypt', '-i', '--age', sb.recipient, path], dir);
    expect(r.stderr).toBe('');
  }
  return dir;
}

const vaultEnv = () => ({ VAULT_ADDR: vault.url, VAULT_TOKEN: TOKEN });

describe('publish to Vault', () => {
  it('KV v2: writes the decrypted values inside {"data": ...} at /v1/MOUNT/data/PATH', async () => {
    const dir = await project('destination_rules:\n  - vault_path: "myapp/"\n', { 'app.yaml': 'db:\n  password: hunter2\nport: 5432\n' });
    const r = await run(['publish', '--yes', 'app.yaml'], dir, vaultEnv());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(vault.secret('secret', 'myapp/app.yaml')).toEqual({ db: { password: 'hunter2' }, port: 5432 });
    const put = vault.requests.find((q) => q.method === 'PUT' && q.path === '/v1/secret/data/myapp/app.yaml');
    expect(put?.status).toBe(200);
    // Publishing the same data again leaves the secret alone, as sops does: no new version.
    expect((await run(['publish', '--yes', 'app.yaml'], dir, vaultEnv())).status).toBe(0);
    expect(vault.versions('secret', 'myapp/app.yaml')).toBe(1);
  });

  it('KV v1 with a custom mount, vault_address and --omit-extensions; the token from ~/.vault-token', async () => {
    const dir = await project(`destination_rules:\n  - vault_path: team\n    vault_kv_mount_name: kv1\n    vault_kv_version: 1\n    vault_address: ${vault.url}\n`, { 'db.json': '{"user": "admin", "pass": "s3cret"}\n' });
    writeFileSync(join(sb.dir, '.vault-token'), `${TOKEN}\n`);
    const r = await run(['publish', '--yes', '--verbose', '--omit-extensions', 'db.json'], dir, { VAULT_ADDR: 'http://127.0.0.1:1' });
    expect(r.stderr).toBe(`tsops: db.json: published to ${vault.url}/v1/kv1/team/db\n`);
    expect(r.status).toBe(0);
    expect(vault.secret('kv1', 'team/db')).toEqual({ user: 'admin', pass: 's3cret' });
  });

  it('a bad token: one line naming the file and Vault\'s 403, exit 1, no secret printed', async () => {
    const dir = await project('destination_rules:\n  - vault_path: denied\n', { 'x.yaml': 'token: do-not-print-me\n' });
    const r = await run(['publish', '--yes', 'x.yaml'], dir, { VAULT_ADDR: vault.url, VAULT_TOKEN: 'wrong' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tsops: x\.yaml: vault: PUT http:\/\/127\.0\.0\.1:\d+\/v1\/secret\/data\/denied\/x\.yaml: HTTP 403: permission denied\n$/m);
    expect(r.stderr.trim().split('\n').filter((l) => !l.includes('warning'))).toHaveLength(1);
    expect(r.stderr + r.stdout).not.toContain('do-not-print-me');
    expect(vault.secret('secret', 'denied/x.yaml')).toBeUndefined();
  });
});

describe('publish to S3', () => {
  it('re-encrypts for the recreation_rule keys (new data key) and PUTs with a verified SigV4 signature', async () => {
    const config = `destination_rules:\n  - s3_bucket: team-bucket\n    s3_prefix: "prod/"\n    recreation_rule:\n      age: ${other.recipient}\n`;
    const dir = await project(config, { 'svc.yaml': 'api_key: abc123\n' });
    const r = await run(['publish', '--yes', 'svc.yaml'], dir, s3.env());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`+++ ${other.recipient}`);
    expect(r.stdout).toContain(`--- ${sb.recipient}`);
    const uploaded = s3.object('team-bucket', 'prod/svc.yaml');
    expect(uploaded).toBeDefined();
    expect(uploaded!.toString()).not.toContain('abc123');
    expect(uploaded!.toString()).toContain(other.recipient);
    expect(uploaded!.toString()).not.toContain(sb.recipient);
    // The uploaded file opens with the recreation rule's key, and the local file is untouched.
    writeFileSync(join(dir, 'uploaded.yaml'), uploaded!);
    const d = await run(['decrypt', 'uploaded.yaml'], dir, { SOPS_AGE_KEY: other.identity, SOPS_AGE_KEY_FILE: '' });
    expect(d.stdout).toBe('api_key: abc123\n');
    expect(readFileSync(join(dir, 'svc.yaml'), 'utf8')).toContain(sb.recipient);
  });

  it('without recreation_rule keys the file goes up byte for byte; --recursive walks a directory in order', async () => {
    const dir = await project('destination_rules:\n  - s3_bucket: team-bucket\n    s3_prefix: "all/"\n', { 'conf/a.yaml': 'a: 1\n', 'conf/sub/b.json': '{"b": 2}\n' });
    const refused = await run(['publish', '--yes', 'conf'], dir, s3.env());
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("can't operate on a directory without --recursive flag.");
    const r = await run(['publish', '--yes', '--recursive', '--omit-extensions', 'conf'], dir, s3.env());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(s3.object('team-bucket', 'all/conf/a')).toEqual(readFileSync(join(dir, 'conf/a.yaml')));
    expect(s3.object('team-bucket', 'all/conf/sub/b')).toEqual(readFileSync(join(dir, 'conf/sub/b.json')));
  });

  it('--input-type reads a file whose name says nothing of its format', async () => {
    const dir = await project('destination_rules:\n  - vault_path: typed\n', {});
    writeFileSync(join(dir, 'settings.conf'), 'level: debug\n');
    expect((await run(['encrypt', '-i', '--input-type', 'yaml', '--age', sb.recipient, 'settings.conf'], dir)).status).toBe(0);
    const r = await run(['publish', '--yes', '--input-type', 'yaml', 'settings.conf'], dir, vaultEnv());
    expect(r.stderr).toBe('');
    expect(vault.secret('secret', 'typed/settings.conf')).toEqual({ level: 'debug' });
  });

  it('an upload failure (AccessDenied) is one line naming the file, exit 1', async () => {
    const dir = await project('destination_rules:\n  - s3_bucket: locked-bucket\n', { 'l.yaml': 'k: v\n' });
    const { AWS_ENDPOINT_URL_S3: endpoint, ...rest } = s3.env();
    // The generic AWS_ENDPOINT_URL reaches S3 too.
    const r = await run(['publish', '--yes', 'l.yaml'], dir, { ...rest, AWS_ENDPOINT_URL: endpoint! });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tsops: l\.yaml: s3: PutObject s3:\/\/locked-bucket\/l\.yaml: HTTP 403 AccessDenied: Access Denied\n$/);
    expect(s3.requests.some((q) => q.bucket === 'locked-bucket' && q.code === 'AccessDenied')).toBe(true);
  });

  it('wrong credentials are refused by the signature check and reported on one line', async () => {
    const dir = await project('destination_rules:\n  - s3_bucket: team-bucket\n', { 'w.yaml': 'k: v\n' });
    const r = await run(['publish', '--yes', 'w.yaml'], dir, { ...s3.env(), AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tsops: w\.yaml: s3: PutObject s3:\/\/team-bucket\/w\.yaml: HTTP 403 SignatureDoesNotMatch/);
    expect(s3.object('team-bucket', 'w.yaml')).toBeUndefined();
  });
});

describe('publish: rules and refusals', () => {
  it('path_regex picks the first matching rule, relative to the config directory', async () => {
    const config = `destination_rules:\n  - path_regex: ^vault/\n    vault_path: picked\n  - path_regex: ^s3/\n    s3_bucket: team-bucket\n`;
    const dir = await project(config, { 'vault/v.yaml': 'x: 1\n', 'other/o.yaml': 'x: 2\n' });
    const r = await run(['publish', '--yes', 'v.yaml'], join(dir, 'vault'), vaultEnv());
    expect(r.stderr).toBe('');
    expect(vault.secret('secret', 'picked/v.yaml')).toEqual({ x: 1 });
    const none = await run(['publish', '--yes', 'other/o.yaml'], dir, vaultEnv());
    expect(none.status).toBe(1);
    expect(none.stderr).toBe('tsops: other/o.yaml: error loading config: no matching destination found in config\n');
  });

  it('a rule with two destinations and a GCS rule fail on one line naming the rule', async () => {
    const dir = await project('destination_rules:\n  - path_regex: two\n    s3_bucket: b\n    vault_path: p\n  - gcs_bucket: g\n', { 'two.yaml': 'a: 1\n', 'g.yaml': 'a: 1\n' });
    const two = await run(['publish', '--yes', 'two.yaml'], dir, vaultEnv());
    expect(two.status).toBe(1);
    expect(two.stderr).toMatch(/^tsops: two\.yaml: destination_rules\[0\] \(.*\.sops\.yaml:2\): more than one destinations were found in a single destination rule/);
    const gcs = await run(['publish', '--yes', 'g.yaml'], dir, vaultEnv());
    expect(gcs.status).toBe(1);
    expect(gcs.stderr).toMatch(/^tsops: g\.yaml: destination_rules\[1\] \(.*\.sops\.yaml:5\): gcs_bucket destinations are not supported by tsops/);
  });

  it('without a terminal and without --yes it refuses before uploading', async () => {
    const dir = await project('destination_rules:\n  - vault_path: ask\n', { 'q.yaml': 'a: 1\n' });
    const r = await run(['publish', 'q.yaml'], dir, vaultEnv());
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tsops: publish asks before uploading .*q\.yaml to http:\/\/127\.0\.0\.1:\d+\/v1\/secret\/data\/ask\/q\.yaml: run it on a terminal, or pass --yes\n$/);
    expect(vault.secret('secret', 'ask/q.yaml')).toBeUndefined();
    // A planted name's terminal escapes are shown, not sent to the terminal.
    const planted = 'q\u001b[2J.yaml';
    writeFileSync(join(dir, planted), readFileSync(join(dir, 'q.yaml')));
    const escaped = await run(['publish', planted], dir, vaultEnv());
    expect(escaped.status).toBe(1);
    expect(escaped.stderr).toContain('q\\x1b[2J.yaml');
    expect(escaped.stderr).not.toContain('\u001b');
  });

  it.runIf(spawnSync('script', ['--version']).status === 0)('on a terminal it asks: n cancels, y uploads', async () => {
    const dir = await project('destination_rules:\n  - vault_path: tty\n', { 'y.yaml': 'a: 1\n' });
    const onTerminal = (answer: string): Promise<Result> => {
      // script(1) gives the CLI a pseudo-terminal; the answer waits in its input until the prompt reads it.
      const child = spawn('script', ['-qec', `'${process.execPath}' '${TSOPS}' publish y.yaml`, '/dev/null'], { cwd: dir, env: { ...sb.env, ...vaultEnv(), TERM: 'dumb' } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.stdin.end(answer);
      return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout: out, stderr: '' })));
    };
    const no = await onTerminal('n\r');
    expect(no.stdout).toMatch(/uploading \S+\/y\.yaml to\s+http:\/\/127\.0\.0\.1:\d+\/v1\/secret\/data\/tty\/y\.yaml \?/);
    expect(no.stdout).toContain('Publish canceled');
    expect(no.status).toBe(1);
    expect(vault.secret('secret', 'tty/y.yaml')).toBeUndefined();
    const yes = await onTerminal('y\r');
    expect(yes.status).toBe(0);
    expect(vault.secret('secret', 'tty/y.yaml')).toEqual({ a: 1 });
  });

  it('a plaintext file is refused, and a tampered one fails its MAC before anything is sent', async () => {
    const dir = await project('destination_rules:\n  - vault_path: checked\n', { 't.yaml': 'a: secret-value\nb: other\n' });
    writeFileSync(join(dir, 'plain.yaml'), 'a: 1\n');
    const plain = await run(['publish', '--yes', 'plain.yaml'], dir, vaultEnv());
    expect(plain.status).toBe(1);
    expect(plain.stderr).toBe('tsops: plain.yaml: sops metadata not found\n');
    const text = readFileSync(join(dir, 't.yaml'), 'utf8');
    const a = /^a: (.*)$/m.exec(text)![1]!;
    const b = /^b: (.*)$/m.exec(text)![1]!;
    writeFileSync(join(dir, 't.yaml'), text.replace(`a: ${a}`, `a: ${b}`));
    const tampered = await run(['publish', '--yes', 't.yaml'], dir, vaultEnv());
    expect(tampered.status).not.toBe(0);
    expect(tampered.stderr.trim().split('\n')).toHaveLength(1);
    expect(vault.secret('secret', 'checked/t.yaml')).toBeUndefined();
  });

  it('VAULT_NAMESPACE is sent as X-Vault-Namespace; an unreachable Vault is one line, exit 1', async () => {
    const dir = await project('destination_rules:\n  - vault_path: ns\n', { 'n.yaml': 'a: 1\n' });
    const r = await run(['publish', '--yes', 'n.yaml'], dir, { ...vaultEnv(), VAULT_NAMESPACE: 'team-a' });
    expect(r.status).toBe(0);
    expect(vault.requests.filter((q) => q.path === '/v1/secret/data/ns/n.yaml').map((q) => q.namespace)).toEqual(['team-a', 'team-a']);
    const down = vault.requests.length;
    const closed = await listenLoopback(() => undefined);
    await closed.close();
    const unreachable = await run(['publish', '--yes', 'n.yaml'], dir, { VAULT_ADDR: closed.url, VAULT_TOKEN: TOKEN });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(/^tsops: warning: cannot check if destination secret already exists in secret\/data\/ns\/n\.yaml \(ECONNREFUSED\)/);
    expect(unreachable.stderr).toMatch(/\ntsops: n\.yaml: vault: PUT http:\/\/127\.0\.0\.1:\d+\/v1\/secret\/data\/ns\/n\.yaml: ECONNREFUSED\n$/);
    expect(vault.requests.length).toBe(down);
  });

  it('a redirecting Vault address is not followed: the token goes nowhere else', async () => {
    const dir = await project('destination_rules:\n  - vault_path: moved\n', { 'm.yaml': 'a: 1\n' });
    const before = vault.requests.length;
    const redirector = await listenLoopback((req, res) => {
      res.writeHead(307, { location: `${vault.url}${req.url ?? '/'}` }).end();
    });
    try {
      const r = await run(['publish', '--yes', 'm.yaml'], dir, { VAULT_ADDR: redirector.url, VAULT_TOKEN: TOKEN });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/\ntsops: m\.yaml: vault: PUT http:\/\/127\.0\.0\.1:\d+\/v1\/secret\/data\/moved\/m\.yaml: [^\n]+\n$/);
      expect(vault.requests.length).toBe(before);
    } finally {
      await redirector.close();
    }
  });

  it('a rule naming no destination, no config, no file: sops\'s messages and exit codes', async () => {
    const dir = await project('destination_rules:\n  - path_regex: nothing\n', { 'nothing.yaml': 'a: 1\n' });
    const r = await run(['publish', '--yes', 'nothing.yaml'], dir, vaultEnv());
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tsops: nothing.yaml: no destination configured for this file\n');
    const noFile = await run(['publish', '--yes'], dir, vaultEnv());
    expect(noFile.status).toBe(100);
    expect(noFile.stderr).toBe('tsops: no file specified\n');
    const bare = join(sb.dir, `bare${n++}`);
    mkdirSync(bare);
    const noConfig = await run(['publish', '--yes', 'x.yaml'], bare, vaultEnv());
    expect(noConfig.status).toBe(1);
    expect(noConfig.stderr).toMatch(/^tsops: config file not found/);
  });

  it('--recursive stops at the first file that fails, as sops does', async () => {
    const dir = await project('destination_rules:\n  - vault_path: stop\n', { 'r/a.yaml': 'a: 1\n', 'r/c.yaml': 'c: 3\n' });
    writeFileSync(join(dir, 'r', 'b.yaml'), 'not: encrypted\n');
    const r = await run(['publish', '--yes', '--recursive', 'r'], dir, vaultEnv());
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tsops: r/b.yaml: sops metadata not found\n');
    expect(vault.secret('secret', 'stop/r/a.yaml')).toEqual({ a: 1 });
    expect(vault.secret('secret', 'stop/r/c.yaml')).toBeUndefined();
  });

  it('--recursive skips symbolic links', async () => {
    const dir = await project('destination_rules:\n  - vault_path: links\n', { 'd/real.yaml': 'a: 1\n' });
    symlinkSync(join(dir, 'd', 'real.yaml'), join(dir, 'd', 'link.yaml'));
    const r = await run(['publish', '--yes', '--recursive', 'd'], dir, vaultEnv());
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('d/link.yaml: skipped: a symbolic link');
    expect(vault.secret('secret', 'links/d/real.yaml')).toEqual({ a: 1 });
    expect(vault.secret('secret', 'links/d/link.yaml')).toBeUndefined();
    // A link named on the command line is followed, as sops follows it.
    symlinkSync(join(dir, 'd'), join(dir, 'e'));
    const named = await run(['publish', '--yes', '--recursive', 'e'], dir, vaultEnv());
    expect(named.stderr).toContain('e/link.yaml: skipped: a symbolic link');
    expect(named.status).toBe(0);
    expect(vault.secret('secret', 'links/e/real.yaml')).toEqual({ a: 1 });
  });

  it('is listed in tsops --help', async () => {
    const r = await run(['--help'], sb.dir);
    expect(r.stdout).toMatch(/^\s+publish \[options\] \[file\]\s+publish an encrypted file/m);
  });
});

describe('publish: files sops wrote', () => {
  const repo = join(INTEROP, 'sops-age-repo');
  const present = existsSync(join(repo, 'secret.enc.json'));
  if (!present) it.skip(`interop samples not found at ${repo}`, () => undefined);

  it.runIf(present)('a sops-written file reaches Vault as its decrypted data and S3 re-encrypted for the recreation rule', async () => {
    const config = join(sb.dir, `interop-${n++}.yaml`);
    writeFileSync(config, `destination_rules:\n  - path_regex: json$\n    vault_path: interop\n  - s3_bucket: team-bucket\n    s3_prefix: interop/\n    recreation_rule:\n      age: ${other.recipient}\n`);
    const env = { ...vaultEnv(), ...s3.env(), SOPS_AGE_KEY_FILE: join(repo, 'key.txt') };
    const toVault = await run(['publish', '--yes', '--config', config, 'secret.enc.json'], repo, env);
    expect(toVault.stderr).toBe('');
    expect(vault.secret('secret', 'interop/secret.enc.json')).toEqual(JSON.parse(readFileSync(join(repo, 'secret.json'), 'utf8')));
    const toS3 = await run(['publish', '--yes', '--config', config, 'secret.enc.yaml'], repo, env);
    expect(toS3.stderr).toBe('');
    const out = join(sb.dir, `interop-${n++}.yaml`);
    writeFileSync(out, s3.object('team-bucket', 'interop/secret.enc.yaml')!);
    const d = await run(['decrypt', '--output-type', 'json', out], sb.dir, { SOPS_AGE_KEY: other.identity, SOPS_AGE_KEY_FILE: '' });
    expect(d.stderr).toBe('');
    expect(JSON.parse(d.stdout)['complex']).toEqual({ value: 'this is a secret', array: ['one', 'two', 'three'] });
  });
});
