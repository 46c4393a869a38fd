/**
 * Large files through the CLI: a ~100 MB binary file and a YAML file with many
 * values are encrypted and decrypted back to the same bytes, and the peak RSS
 * of each tsops process stays under a bound.
 *
 * The bound: peak RSS < 128 MB + k x the plaintext size, k = 10 for binary and
 * 20 for YAML. 128 MB covers Node and the bundle. A whole-file (non-streaming)
 * design holds the input, its text, the decoded and the transformed values and
 * the output at once: binary measured 5.7-6.4 x (encrypt) and 7.3-8.3 x
 * (decrypt) at 100 MB. YAML with many small values also holds a tree node, a
 * layout record and an ENC string per value: measured slopes of about 15.5 x
 * (encrypt) and 11.5 x (decrypt) between 20 and 40 MB. A regression that keeps
 * extra copies of the data, or memory that grows faster than the file, crosses
 * the bound.
 *
 * TSOPS_LARGE_BINARY_MB (default 100) and TSOPS_LARGE_YAML_MB (default 10;
 * 100 MB of YAML takes minutes) scale the files; TSOPS_LARGE_RSS_PROC=1 uses
 * the /proc fallback even where GNU time is installed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TSOPS, sandbox, type Sandbox } from '../support/cli.js';

const MB = 1024 * 1024;
const BINARY_MB = Number(process.env['TSOPS_LARGE_BINARY_MB'] ?? 100);
const YAML_MB = Number(process.env['TSOPS_LARGE_YAML_MB'] ?? 10);
const BASE_BYTES = 128 * MB;
const FACTOR = { binary: 10, yaml: 20 } as const;
const TIME = '/usr/bin/time';

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb?.cleanup());

function gnuTime(): boolean {
  if (!existsSync(TIME)) return false;
  const r = spawnSync(TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /^\d+\s*$/.test(r.stderr.trim().split('\n').at(-1) ?? '');
}

/** VmHWM of a process, in bytes; undefined once it is gone. */
function highWaterMark(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the CLI and returns its peak RSS: GNU time when present, else VmHWM polled until it exits. */
async function peakRss(args: string[]): Promise<{ status: number | null; stderr: string; peak: number; ms: number; how: string }> {
  if (!process.env['TSOPS_LARGE_RSS_PROC'] && gnuTime()) {
    const out = join(sb.dir, 'time.out');
    const t0 = Date.now();
    const r = spawnSync(TIME, ['-f', '%M', '-o', out, process.execPath, TSOPS, ...args], { cwd: sb.dir, env: sb.env, encoding: 'utf8', maxBuffer: 16 * MB });
    const kb = Number(readFileSync(out, 'utf8').trim().split('\n').at(-1));
    return { status: r.status, stderr: r.stderr, peak: kb * 1024, ms: Date.now() - t0, how: 'GNU time' };
  }
  const t0 = Date.now();
  const child = spawn(process.execPath, [TSOPS, ...args], { cwd: sb.dir, env: sb.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, highWaterMark(child.pid!) ?? 0)), 5);
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  clearInterval(poll);
  return { status, stderr, peak, ms: Date.now() - t0, how: 'VmHWM polling' };
}

function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(8 * MB);
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

async function roundTrip(name: string, plainPath: string, digest: string): Promise<void> {
  const size = statSync(plainPath).size;
  const type = name.endsWith('yaml') ? 'yaml' : 'binary';
  const bound = BASE_BYTES + FACTOR[type] * size;
  const enc = join(sb.dir, `${name}.enc`);
  const out = join(sb.dir, `${name}.out`);
  const e = await peakRss(['encrypt', '--age', sb.recipient, '--input-type', type, '--output', enc, plainPath]);
  expect(e.stderr).toBe('');
  expect(e.status).toBe(0);
  const d = await peakRss(['decrypt', '--input-type', type, '--output', out, enc]);
  expect(d.stderr).toBe('');
  expect(d.status).toBe(0);
  const same = sha256File(out) === digest;
  const mb = (n: number): string => (n / MB).toFixed(0);
  console.log(
    `hardening: large-file ${name}: ${mb(size)} MB plaintext, ${mb(statSync(enc).size)} MB encrypted; peak RSS encrypt ${mb(e.peak)} MB (${(e.peak / size).toFixed(1)}x, ${e.ms} ms), decrypt ${mb(d.peak)} MB (${(d.peak / size).toFixed(1)}x, ${d.ms} ms); bound ${mb(bound)} MB (128 MB + ${FACTOR[type]}x plaintext); measured by ${e.how}; round trip ${same ? 'identical' : 'DIFFERENT'}`,
  );
  rmSync(enc, { force: true });
  rmSync(out, { force: true });
  expect(same).toBe(true);
  expect(e.peak).toBeGreaterThan(size); // the measurement saw the process that held the file
  expect(e.peak).toBeLessThan(bound);
  expect(d.peak).toBeLessThan(bound);
}

it(`a ${BINARY_MB} MB binary file round-trips with bounded memory`, async () => {
  const plain = join(sb.dir, 'large-binary');
  const h = createHash('sha256');
  const fd = openSync(plain, 'w');
  for (let left = BINARY_MB * MB; left > 0; left -= 4 * MB) {
    const chunk = randomBytes(Math.min(4 * MB, left));
    h.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  await roundTrip('large-binary', plain, h.digest('hex'));
  rmSync(plain, { force: true });
}, 300_000);

it(`a ${YAML_MB} MB YAML file with many values round-trips with bounded memory`, async () => {
  const plain = join(sb.dir, 'large.yaml');
  const h = createHash('sha256');
  const fd = openSync(plain, 'w');
  // Nested maps, lists, numbers and ~500-byte strings: every value is encrypted on its own.
  let written = 0;
  for (let i = 0; written < YAML_MB * MB; i++) {
    const text = `service${i}:\n    password: ${randomBytes(375).toString('base64')}\n    port: ${1000 + (i % 60000)}\n    hosts:\n        - host-${i}-a\n        - host-${i}-b\n`;
    const b = Buffer.from(text);
    h.update(b);
    writeSync(fd, b);
    written += b.length;
  }
  closeSync(fd);
  await roundTrip('large.yaml', plain, h.digest('hex'));
  rmSync(plain, { force: true });
}, 600_000);
