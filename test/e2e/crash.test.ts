/**
 * kill -9 at spread-out moments while tsops rewrites a large file: afterwards
 * the file is always the old version or the new one, and it decrypts. Every
 * counted kill is one that landed while tsops was still running (its exit
 * says SIGKILL); a run that finished first is tried again with an earlier
 * kill, so a slow or a fast machine tests the same thing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from '../support/cli.js';
import { startCli } from '../support/hardening-cli.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

const RUNS = Number(process.env['TSOPS_CRASH_RUNS'] ?? 12);
const RETRIES = 10;

it(`survives ${RUNS} kill -9 during set on a 20,000-value file`, async () => {
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(`key${i}: value-${i}`);
  const plain = join(sb.dir, 'big.yaml');
  writeFileSync(plain, lines.join('\n') + '\n');
  const original = join(sb.dir, 'big.enc.orig.yaml');
  expect(sb.run(['encrypt', '--age', sb.recipient, '--output', original, plain]).status).toBe(0);
  const target = join(sb.dir, 'big.enc.yaml');
  const oldBytes = readFileSync(original);
  const args = ['set', target, '["key7"]', '"changed"'];

  // How long one full run takes, to spread the kills over it.
  copyFileSync(original, target);
  const t0 = Date.now();
  const whole = startCli(args, sb.env, sb.dir);
  expect((await whole.exit).code, whole.stderrText()).toBe(0);
  const duration = Date.now() - t0;
  const newBytes = readFileSync(target);

  let corrupted = 0;
  let retried = 0;
  for (let run = 0; run < RUNS; run++) {
    let delay = Math.floor(((run + 0.5) / RUNS) * duration);
    for (let attempt = 0; ; attempt++) {
      copyFileSync(original, target);
      const { child, exit } = startCli(args, sb.env, sb.dir);
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      const { signal } = await exit;
      const now = readFileSync(target);
      const isOld = now.equals(oldBytes);
      const decrypted = sb.run(['decrypt', '--extract', '["key7"]', target]);
      const isNew = decrypted.status === 0 && decrypted.stdout === 'changed' && now.length > 0;
      if (!isOld && !isNew) corrupted++;
      if (!isOld) expect(now.toString('utf8').split('\n').length).toBe(newBytes.toString('utf8').split('\n').length);
      if (signal === 'SIGKILL') break;
      // It finished before the kill: not a crash. Try again, earlier.
      expect(attempt, `run ${run}: no kill landed before tsops finished`).toBeLessThan(RETRIES);
      retried++;
      delay = Math.floor(delay / 2);
    }
  }
  console.log(`hardening: crash set: ${RUNS} kills, each landed mid-run (${retried} runs finished first and were tried again earlier), ${corrupted} corrupted files`);
  expect(corrupted).toBe(0);
}, 300_000);
