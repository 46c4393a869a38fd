// The fleet part of `npm run bench` (also runnable alone: `node scripts/bench-fleet.mjs`
// after `npm run build`): decrypt --check -r, rotate -r and updatekeys -r over
// 1,000 files whose data keys are wrapped by AWS KMS, on the loopback KMS server
// with 50 ms added to every call. Reports the parallel time against the serial
// one (--jobs 1) and the peak RSS at 250 and at 1,000 files, read from outside
// the process by /usr/bin/time. One run per case: the serial runs alone take a
// minute and more, and a network-bound run varies little.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const TSOPS = join(ROOT, 'bin', 'tsops.cjs');
const TIME = '/usr/bin/time';
const LATENCY_MS = 50;
const ACCOUNT = '111122223333';
const USER = { accessKeyId: 'AKIABENCHBENCH000001', secretAccessKey: 'bench-secret', arn: `arn:aws:iam::${ACCOUNT}:user/bench` };
const EU = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-1111-1111-1111-111111111111`;
const US = `arn:aws:kms:us-east-1:${ACCOUNT}:key/22222222-2222-2222-2222-222222222222`;
// Serial rotate and updatekeys make two round trips per file (over 100 s for 1,000 files): measured on a sample and scaled.
const SERIAL_SAMPLE = 200;
const HEAP_CAP_MB = 24;

export async function benchFleet({ log = console.log } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-bench-fleet-'));
  const server = await startServer(dir);
  try {
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'no-config'),
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      TSOPS_KMS_TIMEOUT_MS: '30000',
      ...server.env,
    };
    writeFileSync(join(dir, 'app.yaml'), Array.from({ length: 20 }, (_, i) => `key${i}: value-${i}-${'x'.repeat(20)}`).join('\n') + '\n');
    const enc = spawnSync(process.execPath, [TSOPS, 'encrypt', '--kms', EU, 'app.yaml'], { cwd: dir, env, encoding: 'utf8' });
    if (enc.status !== 0) throw new Error(`encrypt failed: ${enc.stderr}`);

    let trees = 0;
    const fleet = (count) => {
      const tree = join(dir, `fleet-${trees++}`);
      mkdirSync(join(tree, 'files'), { recursive: true });
      writeFileSync(join(tree, 'files', 'f0.enc.yaml'), enc.stdout);
      for (let i = 1; i < count; i++) cpSync(join(tree, 'files', 'f0.enc.yaml'), join(tree, 'files', `f${i}.enc.yaml`));
      writeFileSync(join(tree, '.sops.yaml'), `creation_rules:\n  - kms: ${EU},${US}\n`);
      return tree;
    };
    const commands = {
      'decrypt --check -r': { args: ['decrypt', '--check', '-r', 'files'], summary: /check: (\d+) ok, 0 failed/ },
      'rotate -r': { args: ['rotate', '-r', 'files'], summary: /rotate: (\d+) rotated, 0 failed/ },
      'updatekeys -r': { args: ['updatekeys', '-y', '-r', 'files'], summary: /updatekeys: (\d+) changed, 0 unchanged, 0 failed/ },
    };
    const measure = (name, count, jobs, nodeOptions) => {
      const { args, summary } = commands[name];
      const tree = fleet(count);
      const wrapped = existsSync(TIME) ? [TIME, '-f', 'BENCH-RUSAGE %M', process.execPath] : [process.execPath];
      const t0 = process.hrtime.bigint();
      const r = spawnSync(wrapped[0], [...wrapped.slice(1), TSOPS, ...args, '--jobs', String(jobs)], { cwd: tree, env: nodeOptions ? { ...env, NODE_OPTIONS: nodeOptions } : env, encoding: 'utf8', maxBuffer: 1 << 26 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      rmSync(tree, { recursive: true, force: true });
      const done = summary.exec(r.stdout);
      if (r.status !== 0 || !done || Number(done[1]) !== count) throw new Error(`${name} on ${count} files failed (${r.status}): ${r.stdout.slice(-300)} ${r.stderr.slice(-300)}`);
      const rss = /BENCH-RUSAGE (\d+)/.exec(r.stderr);
      return { ms, rssMb: rss ? Number(rss[1]) / 1024 : undefined };
    };

    const jobs = 16;
    log(`fleets of KMS-encrypted files (loopback KMS, +${LATENCY_MS} ms per call, 20-value YAML files, --jobs ${jobs} against --jobs 1; one run per case):`);
    const mb = (x) => (x === undefined ? 'n/a' : `${x.toFixed(0)} MB`);
    for (const name of Object.keys(commands)) {
      const at250 = measure(name, 250, jobs);
      const at1000 = measure(name, 1000, jobs);
      const fully = name === 'decrypt --check -r';
      const serialCount = fully ? 1000 : SERIAL_SAMPLE;
      const serial = measure(name, serialCount, 1);
      const serialMs = serial.ms * (1000 / serialCount);
      log(
        `  ${name.padEnd(19)} 1,000 files ${(at1000.ms / 1000).toFixed(1).padStart(5)} s; serial ${(serialMs / 1000).toFixed(1).padStart(6)} s${fully ? '' : ` (${serialCount} files x${1000 / serialCount})`}` +
          ` = 1/${(serialMs / at1000.ms).toFixed(1)} (target <= 1/8); peak RSS ${mb(at250.rssMb)} at 250 files, ${mb(at1000.rssMb)} at 1,000 (target: flat)`,
      );
    }
    // V8 lets the heap grow before collecting, so peak RSS rises a little with a longer run even when
    // nothing is kept. The live memory is what must stay flat: 1,000 files pass under a heap cap that 250 also need.
    const capped = [250, 1000].map((count) => measure('decrypt --check -r', count, jobs, `--max-old-space-size=${HEAP_CAP_MB}`));
    log(`  decrypt --check -r with the heap capped at ${HEAP_CAP_MB} MB: peak RSS ${mb(capped[0].rssMb)} at 250 files, ${mb(capped[1].rssMb)} at 1,000 (${(capped[1].ms / 1000).toFixed(1)} s)`);
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The loopback KMS server in its own process: the bench's synchronous spawns would otherwise stop it from answering. */
async function startServer(dir) {
  const config = join(dir, 'kms.json');
  writeFileSync(config, JSON.stringify({ users: [USER], keys: [{ arn: EU, allow: [USER.arn] }, { arn: US, allow: [USER.arn] }] }));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'support', 'kms-server.ts'), config, '--latency-ms', String(LATENCY_MS), '--lifetime', '1800'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise((resolveLine, reject) => {
    createInterface({ input: child.stdout }).once('line', resolveLine);
    child.once('exit', (code) => reject(new Error(`the KMS server exited (${code})`)));
  });
  const { env } = JSON.parse(first);
  return { env, stop: () => child.kill('SIGTERM') };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await benchFleet();
