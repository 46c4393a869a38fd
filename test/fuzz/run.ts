/**
 * `npm run fuzz [-- --seed N --inputs N --cli N]`: the parser fuzzer at length,
 * then mutated encrypted files through the built CLI (exit codes from the
 * documented table, one-line errors, no stack traces). Seeded and reproducible.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mutate, rng, runFuzz } from './harness.js';
import { INTEROP } from '../support/interop.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seed = arg('seed', 20261123);
const perParser = arg('inputs', 2000);
const cliRuns = arg('cli', 300);

const reports = await runFuzz(seed, perParser);
let crashes = 0;
let hangs = 0;
for (const r of reports) {
  console.log(`${r.parser.padEnd(22)} ${String(r.inputs).padStart(6)} inputs  ${r.crashes.length} crashes  ${r.hangs} hangs`);
  for (const c of r.crashes.slice(0, 3)) console.log(`    ${c.error}  input(base64): ${c.input.slice(0, 120)}`);
  crashes += r.crashes.length;
  hangs += r.hangs;
}

const ROOT = resolve(import.meta.dirname, '..', '..');
const DOCUMENTED = new Set([0, 1, 2, 3, 4, 6, 7, 8, 25, 49, 51, 91, 92, 100, 112, 128, 200, 201, 203]);
const samples = ['sops-age-repo/secret.enc.yaml', 'sops-age-repo/secret.enc.json', 'sops-age-repo/secret.enc.env'].map((f) => join(INTEROP, f));
const dir = mkdtempSync(join(tmpdir(), 'tsops-fuzz-'));
const r = rng(seed);
let unexpected = 0;
let traces = 0;
try {
  for (let i = 0; i < cliRuns; i++) {
    const sample = samples[i % samples.length]!;
    const file = join(dir, `m${i}${sample.slice(sample.lastIndexOf('.'))}`);
    writeFileSync(file, mutate(mutate(readFileSync(sample), r), r));
    const out = spawnSync(process.execPath, [join(ROOT, 'bin', 'tsops.cjs'), 'decrypt', file], {
      env: { PATH: process.env['PATH'], HOME: dir, SOPS_AGE_KEY_FILE: join(INTEROP, 'sops-age-repo', 'key.txt') },
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (out.status === null || !DOCUMENTED.has(out.status)) unexpected++;
    if (/\n\s+at /.test(out.stderr) || out.stderr.trim().split('\n').length > 1) traces++;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`cli decrypt of mutated files: ${cliRuns} runs, ${unexpected} unexpected exit codes, ${traces} multi-line errors or stack traces`);
console.log(`total: ${crashes} crashes, ${hangs} hangs (seed ${seed})`);
process.exitCode = crashes || hangs || unexpected || traces ? 1 : 0;
