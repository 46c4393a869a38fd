/**
 * No plaintext on disk unless asked for (README, "Security"): while `edit`,
 * `exec-env`, `exec-file` and `decrypt` to stdout are running, and after, no
 * regular file under the temp dirs handed to tsops (a private TMPDIR, and a
 * private XDG_RUNTIME_DIR on tmpfs where the machine has /dev/shm) or the
 * working tree holds a secret value. The scan looks at nothing else, so its
 * time and its result do not depend on what else runs on the machine.
 *
 * Two files are plaintext by the user's explicit request and are checked
 * instead of counted: the file `edit` opens in the editor, and the file
 * `exec-file --no-fifo` hands to the command. Each must be the only hit, be
 * 0600 in a 0700 directory on tmpfs, and be gone (with its directory) when
 * tsops exits.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, realpathSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sandbox, type Sandbox } from '../support/cli.js';
import { startCli } from '../support/hardening-cli.js';

const TOKEN = randomBytes(8).toString('hex');
const S = `s3cr3t-${TOKEN}`;
const NEEDLE = Buffer.from(TOKEN);
/** Files larger than this are not read (other tests' 100 MB fixtures); a tsops temp file of these small inputs never is. */
const MAX_SCAN_BYTES = 32 * 1024 * 1024;

let sb: Sandbox;
let roots: string[];
/** The temp dirs tsops gets in this test: TMPDIR, and XDG_RUNTIME_DIR (tmpfs when available). */
let privateTmp: string;
let privateRuntime: string;
const lines: string[] = [];

beforeAll(async () => {
  sb = await sandbox();
  privateTmp = join(sb.dir, 'tmp');
  mkdirSync(privateTmp, { mode: 0o700 });
  privateRuntime = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tsops-npod-'));
  chmodSync(privateRuntime, 0o700);
  sb.env['TMPDIR'] = privateTmp;
  sb.env['XDG_RUNTIME_DIR'] = privateRuntime;
  roots = [privateRuntime, sb.dir];
  // The plaintext goes in on stdin: the only copies on disk are the encrypted files.
  const enc = (name: string, type: string, text: string): void => {
    const r = sb.run(['encrypt', '--age', sb.recipient, '--input-type', type, '--output', name], { input: text });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  };
  enc('secrets.enc.yaml', 'yaml', `db:\n    password: ${S}-pw\n    user: ${S}-user\napi_token: ${S}-token\n`);
  enc('app.enc.env', 'dotenv', `DB_PASSWORD=${S}-env\nAPI_TOKEN=${S}-env2\n`);
  const many: string[] = [];
  // Far more than a pipe holds, so `decrypt` blocks mid-write while nobody reads.
  for (let i = 0; i < 4000; i++) many.push(`key${i}: ${S}-${i}-${'p'.repeat(40)}`);
  enc('large.enc.yaml', 'yaml', many.join('\n') + '\n');
}, 60_000);

afterAll(() => {
  for (const l of lines) console.log(l);
  if (privateRuntime) rmSync(privateRuntime, { recursive: true, force: true });
  sb?.cleanup();
});

interface Scan {
  hits: string[];
  files: number;
  skippedLarge: number;
}

/** Regular files under the roots holding the token; nothing else is opened (FIFOs would block). */
function scan(): Scan {
  const seen = new Set<string>();
  const out: Scan = { hits: [], files: 0, skippedLarge: 0 };
  const buf = Buffer.alloc(1024 * 1024);
  const visit = (path: string, depth: number): void => {
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      return; // gone meanwhile
    }
    if (st.isDirectory()) {
      if (depth > 40) return;
      let names: string[];
      try {
        names = readdirSync(path);
      } catch {
        return;
      }
      for (const n of names) visit(join(path, n), depth + 1);
      return;
    }
    if (!st.isFile()) return;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.files++;
    if (st.size > MAX_SCAN_BYTES) {
      out.skippedLarge++;
      return;
    }
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return;
    }
    try {
      // Chunks overlap by the needle's length, so a hit across a boundary is found.
      let carry = Buffer.alloc(0);
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
        const chunk = Buffer.concat([carry, buf.subarray(0, n)]);
        if (chunk.includes(NEEDLE)) {
          out.hits.push(path);
          return;
        }
        carry = chunk.subarray(Math.max(0, chunk.length - NEEDLE.length));
      }
    } catch {
      // unreadable: not ours
    } finally {
      closeSync(fd);
    }
  };
  for (const r of roots) visit(r, 0);
  return out;
}

async function waitFor(path: string, exited: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path)) {
    if (exited()) throw new Error(`tsops exited before ${path} appeared`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A shell snippet that records a path, then waits until the test lets it go on. */
function holdScript(tag: string, recordPath = '""'): string {
  const ready = join(sb.dir, `${tag}.ready`);
  const go = join(sb.dir, `${tag}.go`);
  return `printf '%s' ${recordPath} > '${ready}.tmp' && mv '${ready}.tmp' '${ready}'; while [ ! -e '${go}' ]; do sleep 0.02; done`;
}

function release(tag: string): void {
  writeFileSync(join(sb.dir, `${tag}.go`), '');
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function onTmpfs(path: string): boolean {
  if (!existsSync('/proc/mounts')) return false;
  const real = realpathSync(path);
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f[2] === 'tmpfs').map((f) => f[1]!);
  return mounts.some((m) => real === m || real.startsWith(m.endsWith('/') ? m : `${m}/`));
}

/** Runs one command that holds until released: scan while it holds, then after it exits. */
async function during(tag: string, args: string[], env: NodeJS.ProcessEnv, options: { expectedPath?: boolean } = {}): Promise<{ during: Scan; after: Scan; expected?: string; code: number | null; stderr: string; expectedModes?: string; expectedOnTmpfs?: boolean; expectedGone?: boolean }> {
  const { stderrText, exit, child } = await startCli(args, { ...sb.env, ...env }, sb.dir);
  let exited = false;
  void exit.then(() => (exited = true));
  const ready = join(sb.dir, `${tag}.ready`);
  await waitFor(ready, () => exited);
  const expected = options.expectedPath ? readFileSync(ready, 'utf8') : undefined;
  const d = scan();
  let expectedModes: string | undefined;
  let expectedOnTmpfs: boolean | undefined;
  if (expected) {
    expectedModes = `${mode(expected).toString(8)}/${mode(dirname(expected)).toString(8)}`;
    expectedOnTmpfs = onTmpfs(expected);
  }
  expect(child.exitCode, `${tag}: tsops was still running during the scan`).toBe(null);
  release(tag);
  const { code } = await exit;
  const after = scan();
  return { during: d, after, ...(expected ? { expected, expectedModes, expectedOnTmpfs, expectedGone: !existsSync(expected) && !existsSync(dirname(expected)) } : {}), code, stderr: stderrText() };
}

it('no scan finds plaintext before any command runs (the scan itself works: it finds a planted file)', () => {
  const before = scan();
  expect(before.hits).toEqual([]);
  const planted = join(sb.dir, 'planted.txt');
  writeFileSync(planted, `x${'y'.repeat(2 * 1024 * 1024)}${S}`);
  expect(scan().hits).toEqual([planted]);
  writeFileSync(planted, 'gone');
  lines.push(`hardening: no-plaintext-on-disk: scanning ${roots.join(', ')} (${before.files} files, ${before.skippedLarge} over 32 MB not read)`);
});

/**
 * The user asked for one plaintext file (the one an editor or a --no-fifo
 * command gets): it must be the only hit, 0600 in a 0700 dir on tmpfs, and gone after.
 */
function onlyTheHandedOverFile(command: string, what: string, r: Awaited<ReturnType<typeof during>>): void {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const others = r.during.hits.filter((h) => h !== r.expected);
  lines.push(
    `hardening: no-plaintext-on-disk ${command}: ${others.length} hits during, ${r.after.hits.length} after; ${what}: ${r.during.hits.includes(r.expected!) ? 'found' : 'NOT found'} at ${r.expected}, modes ${r.expectedModes}, ${r.expectedOnTmpfs ? 'on tmpfs' : 'NOT on tmpfs'}, ${r.expectedGone ? 'gone after' : 'STILL THERE after'}`,
  );
  expect(r.during.hits).toContain(r.expected);
  expect(others).toEqual([]);
  expect(r.after.hits).toEqual([]);
  expect(r.expectedModes).toBe('600/700');
  // Where the machine has a tmpfs (Linux's /dev/shm), the file is on it.
  expect(r.expectedOnTmpfs).toBe(existsSync('/dev/shm') && existsSync('/proc/mounts'));
  expect(r.expectedGone).toBe(true);
}

it('edit: only the editor file holds plaintext, 0600 in a 0700 dir on tmpfs, gone afterwards', async () => {
  const editor = join(sb.dir, 'editor.sh');
  writeFileSync(editor, `#!/bin/sh\n${holdScript('edit', '"$1"')}\nsed -i "s/-pw$/-pw-edited/" "$1"\n`, { mode: 0o755 });
  const r = await during('edit', ['edit', 'secrets.enc.yaml'], { EDITOR: editor }, { expectedPath: true });
  onlyTheHandedOverFile('edit', "the editor's temp file", r);
  expect(sb.run(['decrypt', '--extract', '["db"]["password"]', 'secrets.enc.yaml']).stdout).toBe(`${S}-pw-edited`);
});

it('exec-env: nothing while the child runs with the secrets, nothing after', async () => {
  const r = await during('exec-env', ['exec-env', 'app.enc.env', '--', 'sh', '-c', `[ "$DB_PASSWORD" = '${S}-env' ] || exit 9; ${holdScript('exec-env')}`], {});
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  lines.push(`hardening: no-plaintext-on-disk exec-env: ${r.during.hits.length} hits during, ${r.after.hits.length} after`);
  expect(r.during.hits).toEqual([]);
  expect(r.after.hits).toEqual([]);
});

it('exec-file (FIFO): nothing while the child holds the decrypted file, nothing after', async () => {
  const r = await during('exec-file', ['exec-file', 'secrets.enc.yaml', '--', 'sh', '-c', `[ -p "$0" ] || exit 8; grep -q '${S}-token' "$0" || exit 9; ${holdScript('exec-file', '"$0"')}`, '{}'], {}, { expectedPath: true });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  lines.push(`hardening: no-plaintext-on-disk exec-file: ${r.during.hits.length} hits during, ${r.after.hits.length} after (the path handed over was a FIFO, ${r.expectedGone ? 'gone after' : 'STILL THERE after'})`);
  expect(r.during.hits).toEqual([]);
  expect(r.after.hits).toEqual([]);
  expect(r.expectedGone).toBe(true);
});

it('exec-file --no-fifo: only the handed-over file holds plaintext, 0600 in a 0700 dir on tmpfs, gone afterwards', async () => {
  const r = await during('exec-file-no-fifo', ['exec-file', '--no-fifo', 'secrets.enc.yaml', '--', 'sh', '-c', `[ -f "$0" ] || exit 8; ${holdScript('exec-file-no-fifo', '"$0"')}`, '{}'], {}, { expectedPath: true });
  onlyTheHandedOverFile('exec-file --no-fifo', 'the handed-over file', r);
});

it('decrypt to stdout: nothing while it is blocked writing to a full pipe, nothing after', async () => {
  const { child, exit, stderrText } = await startCli(['decrypt', 'large.enc.yaml'], sb.env, sb.dir, 'pipe');
  child.stdout!.pause();
  // Wait until output has started and the pipe is full: tsops is then stuck mid-write.
  await new Promise<void>((resolve) => child.stdout!.once('readable', () => resolve()));
  await new Promise((r) => setTimeout(r, 300));
  const midRun = child.exitCode === null;
  const d = scan();
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stdout!.resume();
  const { code } = await exit;
  const out = Buffer.concat(chunks).toString('utf8');
  const after = scan();
  lines.push(`hardening: no-plaintext-on-disk decrypt to stdout: ${d.hits.length} hits during (${midRun ? 'blocked mid-write' : 'ALREADY EXITED'}), ${after.hits.length} after; ${out.length} bytes of plaintext went to the pipe`);
  expect(stderrText()).toBe('');
  expect(code).toBe(0);
  expect(out).toContain(`${S}-3999-`);
  expect(midRun).toBe(true);
  expect(d.hits).toEqual([]);
  expect(after.hits).toEqual([]);
});
