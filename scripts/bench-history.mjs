// `tsops scan --history` on a generated repository of 10,000 commits (one
// file changed per commit, two planted fake tokens later removed), built with
// `git fast-import` in a temp dir. Run alone with `node scripts/bench-history.mjs`,
// or from scripts/bench.mjs.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const COMMITS = Number(process.env.BENCH_HISTORY_COMMITS ?? 10_000);
const FILES = 200;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const random = (alphabet, n) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

function fastImportStream() {
  const parts = [];
  const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const plants = new Map([
    [Math.min(1234, COMMITS - 2), `GITHUB_TOKEN = "ghp_${random(ALNUM, 36)}"`],
    [Math.min(7777, COMMITS - 1), `AWS_ACCESS_KEY_ID = "AKIA${random('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}"`],
  ]);
  for (let c = 1; c <= COMMITS; c++) {
    const file = `src/module${c % FILES}.py`;
    const lines = [`# module ${c % FILES}, revision ${c}`, 'import os', ''];
    for (let i = 0; i < 30; i++) lines.push(`def handler_${i}(event):\n    return {"status": ${200 + (i % 5)}, "revision": ${c}, "id": "${random(ALNUM, 12)}"}`);
    if (plants.has(c)) lines.push(plants.get(c));
    parts.push(`commit refs/heads/main\nmark :${c}\ncommitter Bench <bench@example.org> ${1_700_000_000 + c} +0000\n${data(`change ${c}`)}`);
    if (c > 1) parts.push(`from :${c - 1}\n`);
    parts.push(`M 100644 inline ${file}\n${data(lines.join('\n') + '\n')}`);
  }
  return parts.join('');
}

export function benchScanHistory({ tsops, env, runs = 3 }) {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-bench-history-'));
  try {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    const git = (args, input) => execFileSync('git', args, { cwd: repo, input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
    git(['init', '-q', '-b', 'main']);
    const t0 = process.hrtime.bigint();
    git(['fast-import', '--quiet'], fastImportStream());
    git(['reset', '-q', '--hard', 'main']);
    const built = Number(process.hrtime.bigint() - t0) / 1e6;
    const times = [];
    let summary = '';
    for (let run = 0; run < runs; run++) {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [tsops, 'scan', '--history'], { cwd: repo, env: { ...env, GIT_CEILING_DIRECTORIES: dir }, encoding: 'utf8', maxBuffer: 1 << 28 });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (r.status !== 1) throw new Error(`scan --history should find the 2 planted tokens (exit 1), got ${r.status}: ${r.stderr}`);
      summary = r.stderr.trim().split('\n').pop();
    }
    times.sort((a, b) => a - b);
    return { commits: COMMITS, built, median: times[Math.floor(times.length / 2)], summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printScanHistory(result) {
  console.log(`tsops scan --history, ${result.commits.toLocaleString('en')} commits: ${result.median.toFixed(0)} ms (median; history generated with git fast-import in ${result.built.toFixed(0)} ms)`);
  console.log(`  ${result.summary}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = resolve(import.meta.dirname, '..');
  const home = mkdtempSync(join(tmpdir(), 'tsops-bench-home-'));
  try {
    printScanHistory(benchScanHistory({ tsops: join(root, 'bin', 'tsops.cjs'), env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home } }));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
