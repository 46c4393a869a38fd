/**
 * kill -9 at random moments while tsops rewrites a large file: afterwards the
 * file is always the old version or the new one, and it decrypts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TSOPS, sandbox, type Sandbox } from '../support/cli.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

const RUNS = Number(process.env['TSOPS_CRASH_RUNS'] ?? 12);

it(`survives ${RUNS} kill -9 during set on a 20,000-value file`, async () => {
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(`key${i}: value-${i}`);
  const plain = join(sb.dir, 'big.yaml');
  writeFileSync(plain, lines.join('\n') + '\n');
  const original = join(sb.dir, 'big.enc.orig.yaml');
  expect(sb.run(['encrypt', '--age', sb.recipient, '--output', original, plain]).status).toBe(0);
  const target = join(sb.dir, 'big.enc.yaml');
  const oldBytes = readFileSync(original);

  // How long one full run takes, to spread the kills over it.
  copyFileSync(original, target);
  const t0 = Date.now();
  expect(sb.run(['set', target, '["key7"]', '"changed"']).status).toBe(0);
  const duration = Date.now() - t0;
  const newBytes = readFileSync(target);

  let killed = 0;
  let corrupted = 0;
  for (let run = 0; run < RUNS; run++) {
    copyFileSync(original, target);
    const child = spawn(process.execPath, [TSOPS, 'set', target, '["key7"]', '"changed"'], { env: sb.env, stdio: 'ignore' });
    // Listening from the start: a run that ends before the kill must not be waited for forever.
    const exited = new Promise((r) => child.on('exit', r));
    const delay = Math.floor(((run + 0.5) / RUNS) * duration);
    await new Promise((r) => setTimeout(r, delay));
    if (child.exitCode === null && child.kill('SIGKILL')) killed++;
    await exited;
    const now = readFileSync(target);
    const isOld = now.equals(oldBytes);
    const decrypted = sb.run(['decrypt', '--extract', '["key7"]', target]);
    const isNew = decrypted.status === 0 && decrypted.stdout === 'changed' && now.length > 0;
    if (!isOld && !isNew) corrupted++;
    if (!isOld) expect(now.toString('utf8').split('\n').length).toBe(newBytes.toString('utf8').split('\n').length);
  }
  console.log(`crash test: ${RUNS} runs, ${killed} killed mid-run, ${corrupted} corrupted files`);
  expect(corrupted).toBe(0);
}, 120_000);
