/**
 * Commands over a fleet of KMS-encrypted files, end to end through the built
 * CLI and the real AWS SDK against the loopback KMS server, which adds 25 ms
 * to every call as a remote region would: bounded concurrency, one client
 * (a few reused connections) per region, a summary naming every failure,
 * results the same as one file at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKmsServer, type KmsServer } from '../support/kms-server.js';
import { TSOPS } from '../support/cli.js';

const ACCOUNT = '111122223333';
const USER = `arn:aws:iam::${ACCOUNT}:user/ops`;
const EU = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-1111-1111-1111-111111111111`;
const US = `arn:aws:kms:us-east-1:${ACCOUNT}:key/22222222-2222-2222-2222-222222222222`;
const FILES = 40;
const TAMPERED = 'app-17.enc.yaml';

let server: KmsServer;
let dir: string;
let template: string;

beforeAll(async () => {
  server = await startKmsServer({
    users: [{ accessKeyId: 'AKIAOPSOPSOPS0000001', secretAccessKey: 'ops-secret', arn: USER }],
    keys: [{ arn: EU, allow: [USER] }, { arn: US, allow: [USER] }],
    latencyMs: 25,
  });
  dir = mkdtempSync(join(tmpdir(), 'tsops-fleet-'));
  writeFileSync(join(dir, 'plain.yaml'), 'password: hunter2\nport: 5432\n');
  const eu = await run(['encrypt', '--kms', EU, 'plain.yaml'], dir);
  const us = await run(['encrypt', '--kms', US, 'plain.yaml'], dir);
  expect(eu.stderr + us.stderr).toBe('');
  template = join(dir, 'template');
  mkdirSync(template);
  // Half the files in each region; copies share a data key, which no command here minds.
  for (let i = 0; i < FILES; i++) writeFileSync(join(template, `app-${i}.enc.yaml`), i % 2 ? us.stdout : eu.stdout);
  writeFileSync(join(template, 'README.md'), 'not encrypted\n');
  // Edited without the data key: the MAC no longer opens (sops's exit 51).
  const tampered = eu.stdout.replace(/lastmodified: "\d{4}/, 'lastmodified: "2001');
  expect(tampered).not.toBe(eu.stdout);
  writeFileSync(join(template, TAMPERED), tampered);
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh copy of the fleet. */
function tree(name: string): string {
  const to = join(dir, name);
  cpSync(template, to, { recursive: true });
  return to;
}

/** Asynchronous on purpose: the KMS server answers from this same process. */
function run(args: string[], cwd: string, input?: string, extra: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TSOPS, ...args], { cwd, env: fleetEnv(extra) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdin.end(input ?? '');
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

function fleetEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'no-config'),
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    TSOPS_KMS_TIMEOUT_MS: '20000',
    ...server.env('AKIAOPSOPSOPS0000001'),
    ...extra,
  };
}

const kmsCalls = (operation: string) => server.requests.filter((r) => r.service === 'kms' && r.operation === operation && r.outcome === 'ok').length;
const encField = (text: string) => /enc: (\S+)/.exec(text)?.[1];

describe('decrypt --check -r over a fleet', () => {
  it('verifies every file, names the tampered one, decrypts nothing to stdout, and matches the serial run', async () => {
    const fleet = tree('check');
    server.resetLoad();
    const decryptsBefore = kmsCalls('Decrypt');
    const parallel = await run(['decrypt', '--check', '-r', '--jobs', '4', '.'], fleet);
    const load = server.load;
    expect(parallel.stdout).toBe(`check: ${FILES - 1} ok, 1 failed\n`);
    expect(parallel.stderr).toMatch(new RegExp(`^tsops: ${TAMPERED}: .*\\n$`));
    expect(parallel.stdout + parallel.stderr).not.toContain('hunter2');
    expect(parallel.stderr).not.toContain('\r'); // no progress line off a terminal
    expect(parallel.status).toBe(51); // the failures agree: sops's MAC-mismatch code
    expect(kmsCalls('Decrypt') - decryptsBefore).toBe(FILES);
    // At most --jobs files in flight, each with one KMS call at a time.
    expect(load.maxInFlight).toBeLessThanOrEqual(4);
    // One client per region reusing its sockets: no more connections than calls that can overlap, far fewer than calls.
    expect(load.connections).toBeLessThanOrEqual(2 * 4);

    const serial = await run(['decrypt', '--check', '-r', '--jobs', '1', '.'], fleet);
    expect(serial).toEqual(parallel);
    expect(server.load.maxInFlight).toBeLessThanOrEqual(4);
  }, 60_000);

  it('TSOPS_JOBS sets the bound when --jobs is not given; a bad value is a usage error', async () => {
    const fleet = tree('jobs-env');
    rmSync(join(fleet, TAMPERED));
    server.resetLoad();
    const r = await run(['decrypt', '--check', '-r', '.'], fleet, undefined, { TSOPS_JOBS: '2' });
    expect(r.stdout).toBe(`check: ${FILES - 1} ok, 0 failed\n`);
    expect(r.status).toBe(0);
    expect(server.load.maxInFlight).toBeLessThanOrEqual(2);
    const bad = await run(['decrypt', '--check', '-r', '--jobs', '0', '.'], fleet);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--jobs must be a whole number/);
  }, 60_000);

  it('checks one file without -r; a plain file fails as not encrypted; output flags are refused', async () => {
    const fleet = tree('one');
    const one = await run(['decrypt', '--check', 'app-0.enc.yaml'], fleet);
    expect(one).toMatchObject({ status: 0, stdout: 'check: 1 ok, 0 failed\n', stderr: '' });
    const plain = await run(['decrypt', '--check', 'README.md'], fleet);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/^tsops: README\.md: /);
    const writing = await run(['decrypt', '--check', '-i', 'app-0.enc.yaml'], fleet);
    expect(writing.status).toBe(8);
    expect(readFileSync(join(fleet, 'app-0.enc.yaml'), 'utf8')).toBe(readFileSync(join(template, 'app-0.enc.yaml'), 'utf8'));
  });

  it('-r without --check is refused: it would print a whole tree decrypted', async () => {
    const r = await run(['decrypt', '-r', '.'], tree('no-check'));
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/add --check/);
  });
});

describe('rotate -r and updatekeys -r over a fleet', () => {
  it('rotate -r gives every file a new data key, reports the tampered one, and leaves the same plaintext as a serial run', async () => {
    const parallelTree = tree('rotate-parallel');
    const serialTree = tree('rotate-serial');
    server.resetLoad();
    const parallel = await run(['rotate', '-r', '--jobs', '6', '.'], parallelTree);
    expect(server.load.maxInFlight).toBeLessThanOrEqual(6);
    expect(server.load.connections).toBeLessThanOrEqual(2 * 6);
    const serial = await run(['rotate', '-r', '--jobs', '1', '.'], serialTree);
    for (const r of [parallel, serial]) {
      expect(r.stdout).toBe(`rotate: ${FILES - 1} rotated, 1 failed\n`);
      expect(r.stderr).toMatch(new RegExp(`^tsops: ${TAMPERED}: `));
      expect(r.status).toBe(1);
    }
    expect(parallel.stderr).toBe(serial.stderr);
    for (const name of readdirSync(template).filter((n) => n.endsWith('.enc.yaml') && n !== TAMPERED)) {
      const before = readFileSync(join(template, name), 'utf8');
      const after = readFileSync(join(parallelTree, name), 'utf8');
      expect(encField(after)).not.toBe(encField(before));
      expect(after).toContain(Number(/app-(\d+)/.exec(name)![1]) % 2 ? US : EU); // each file keeps its region's key
    }
    const checked = await run(['decrypt', '--check', '-r', '.'], parallelTree);
    expect(checked.stdout).toBe(`check: ${FILES - 1} ok, 1 failed\n`);
    const one = await run(['decrypt', 'app-4.enc.yaml'], parallelTree);
    expect(one.stdout).toBe((await run(['decrypt', 'app-4.enc.yaml'], serialTree)).stdout);
    expect(one.stdout).toBe('password: hunter2\nport: 5432\n');
  }, 90_000);

  it('updatekeys -r adds the other region\'s key to every file, as a serial run does', async () => {
    const trees = [tree('update-parallel'), tree('update-serial')];
    for (const t of trees) writeFileSync(join(t, '.sops.yaml'), `creation_rules:\n  - kms: ${EU},${US}\n`);
    server.resetLoad();
    const parallel = await run(['updatekeys', '-y', '-r', '--jobs', '8', '.'], trees[0]!);
    // Re-wrapping for two keys calls both at once: at most two calls per file in flight.
    expect(server.load.maxInFlight).toBeLessThanOrEqual(2 * 8);
    const serial = await run(['updatekeys', '-y', '-r', '--jobs', '1', '.'], trees[1]!);
    expect(parallel.stdout).toBe(serial.stdout);
    expect(parallel.stderr).toBe(serial.stderr);
    expect(parallel.stdout).toContain(`updatekeys: ${FILES - 1} changed, 0 unchanged, 1 failed\n`);
    expect(parallel.stderr).toMatch(new RegExp(`tsops: ${TAMPERED}: `));
    expect(parallel.status).toBe(1);
    for (const t of trees) {
      for (let i = 0; i < FILES; i++) {
        if (`app-${i}.enc.yaml` === TAMPERED) continue;
        const text = readFileSync(join(t, `app-${i}.enc.yaml`), 'utf8');
        expect(text).toContain(EU);
        expect(text).toContain(US);
      }
    }
  }, 90_000);
});

describe('status over a fleet', () => {
  it('reports every file and ends with the counts', async () => {
    const fleet = tree('status');
    const r = await run(['status', '--jobs', '8', '.'], fleet);
    expect(r.stdout).toMatch(new RegExp(`status: ${FILES} files: mac ${FILES - 1} ok, 1 mismatch; config ${FILES} unknown\\n$`));
    expect(r.stdout).toContain('app-0.enc.yaml\n');
    expect(r.status).toBe(0);
  }, 60_000);
});

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasScript)('progress line', () => {
  it('is drawn on a terminal with carriage returns and cleared before the summary', async () => {
    const fleet = tree('tty');
    // script(1) gives the command a terminal; the KMS server answers from this process, so it runs asynchronously.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(TSOPS)} decrypt --check -r --jobs 4 .`;
    const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: fleet, env: fleetEnv() });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stdin.end();
    const status = await new Promise((resolve) => child.on('close', resolve));
    expect(status).toBe(51);
    expect(out).toMatch(/\rcheck \[#+\] 40\/40, 1 failed/);
    expect(out).toContain('\r\x1b[K');
    expect(out).toMatch(/check: 39 ok, 1 failed/);
    expect(out).not.toContain('hunter2');
  }, 60_000);
});
