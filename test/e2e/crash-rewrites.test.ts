/**
 * kill -9 at spread-out moments while tsops rewrites a large file in place
 * with `encrypt -i`, `edit`, `rotate -i` and `updatekeys --yes` (crash.test.ts
 * does the same for `set`). Afterwards the file is byte-identical to the old
 * version, or it is the new version and `tsops decrypt` gives the expected
 * plaintext. Temp files of the atomic write (`.tsops-` in the name) left by a
 * kill are not corruption, but they are counted and reported. Every counted
 * kill landed while tsops was still running; a run that finished first is
 * tried again with an earlier kill.
 *
 * TSOPS_CRASH_RUNS (kills per command, default 6) and TSOPS_CRASH_VALUES
 * (values in the file, default 3000) scale the test up for a long run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from '../support/cli.js';
import { atomicTempFiles, removeAll, startCli } from '../support/hardening-cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';

const RUNS = Number(process.env['TSOPS_CRASH_RUNS'] ?? 6);
const VALUES = Number(process.env['TSOPS_CRASH_VALUES'] ?? 3000);
const RETRIES = 10;

let sb: Sandbox;
let plaintext: string;
let encrypted: Buffer;
/** Where killed `edit` runs leave their private dirs: on tmpfs when there is one, and ours to count and clean. */
let runtimeDir: string;

beforeAll(async () => {
  sb = await sandbox();
  const lines: string[] = ['# crash test data'];
  for (let i = 0; i < VALUES; i++) lines.push(`key${i}: value-${i}-${'x'.repeat(i % 40)}`);
  plaintext = lines.join('\n') + '\n';
  const plain = join(sb.dir, 'plain.yaml');
  writeFileSync(plain, plaintext);
  const enc = join(sb.dir, 'encrypted.yaml');
  const r = sb.run(['encrypt', '--age', sb.recipient, '--output', enc, plain]);
  expect(r.stderr).toBe('');
  encrypted = readFileSync(enc);
  runtimeDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : sb.dir, 'tsops-crash-rt-'));
  chmodSync(runtimeDir, 0o700);
}, 60_000);

afterAll(() => {
  rmSync(runtimeDir, { recursive: true, force: true });
  sb?.cleanup();
});

interface Scenario {
  name: string;
  dir: string;
  target: string;
  /** The bytes the target holds before each run. */
  old: Buffer;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** The plaintext the new version must decrypt to. */
  expected: string;
  /** Extra checks on a new version (e.g. the added recipient is there). */
  newCheck?: (bytes: Buffer) => boolean;
  /** Kills are timed from this line on tsops's stderr (the editor saved) instead of from the start. */
  startMarker?: string;
}

/**
 * Kill moments in ms: half spread over a whole run, half over the stretch
 * before the target is replaced (from 75% of that moment to just after it),
 * where the temp file is written, synced and renamed.
 */
function killTimes(n: number, runMs: number, renameMs: number): number[] {
  const out: number[] = [];
  const whole = Math.ceil(n / 2);
  for (let i = 0; i < whole; i++) out.push(((i + 0.5) / whole) * runMs);
  const late = n - whole;
  for (let i = 0; i < late; i++) out.push(renameMs * (0.75 + (0.3 * (i + 0.5)) / late));
  return out.map(Math.floor);
}

async function oneRun(s: Scenario, killAfterMs: number | undefined): Promise<{ killed: boolean; ms: number; renameMs: number; code: number | null }> {
  writeFileSync(s.target, s.old);
  const { child, stderrText, exit } = await startCli(s.args, { ...sb.env, ...s.env }, s.dir);
  let t0 = Date.now();
  if (s.startMarker) {
    // The editor writes the marker to the stderr it shares with tsops: the save starts right after.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (stderrText().includes(s.startMarker!)) {
          child.stderr!.off('data', check);
          resolve();
        }
      };
      child.stderr!.on('data', check);
      void exit.then(() => resolve());
      check();
    });
    t0 = Date.now();
  }
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  let renameMs = -1;
  if (killAfterMs !== undefined) {
    timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  } else {
    // The atomic write renames a new file over the target: its inode changes at that moment.
    const ino = statSync(s.target).ino;
    poll = setInterval(() => {
      try {
        if (renameMs < 0 && statSync(s.target).ino !== ino) renameMs = Date.now() - t0;
      } catch {
        // between unlink and rename on some systems; try again
      }
    }, 1);
  }
  const { code, signal } = await exit;
  clearTimeout(timer);
  clearInterval(poll);
  const ms = Date.now() - t0;
  if (killAfterMs === undefined && code !== 0) throw new Error(`${s.name}: the unkilled run failed (${code}): ${stderrText()}`);
  return { killed: signal === 'SIGKILL', ms, renameMs: renameMs < 0 ? ms : renameMs, code };
}

function isNewVersion(s: Scenario, bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  const d = sb.run(['decrypt', s.target], { cwd: s.dir });
  return d.status === 0 && d.stdout === s.expected && (s.newCheck?.(bytes) ?? true);
}

async function crashScenario(s: Scenario): Promise<void> {
  // Two unkilled runs time the kills (the slower one counts) and must give the new version.
  let duration = 0;
  let renameAt = 0;
  for (let i = 0; i < 2; i++) {
    const r = await oneRun(s, undefined);
    duration = Math.max(duration, r.ms);
    renameAt = Math.max(renameAt, r.renameMs);
    expect(isNewVersion(s, readFileSync(s.target)), `${s.name}: an unkilled run gives the new version`).toBe(true);
    expect(atomicTempFiles(s.dir)).toEqual([]);
  }

  let killed = 0;
  let corrupted = 0;
  let asOld = 0;
  let asNew = 0;
  let leftoverTemps = 0;
  let retried = 0;
  for (let at of killTimes(RUNS, duration, renameAt)) {
    for (let attempt = 0; ; attempt++) {
      const r = await oneRun(s, at);
      const now = readFileSync(s.target);
      if (now.equals(s.old)) asOld++;
      else if (isNewVersion(s, now)) asNew++;
      else corrupted++;
      const temps = atomicTempFiles(s.dir);
      leftoverTemps += temps.length;
      removeAll(s.dir, temps);
      if (r.killed) {
        killed++;
        break;
      }
      // It finished before the kill: not a crash. Try again, earlier.
      expect(attempt, `${s.name}: no kill landed before tsops finished`).toBeLessThan(RETRIES);
      retried++;
      at = Math.floor(at / 2);
    }
  }
  // Each run removes what killed runs left; what the last kill left goes with the next run.
  const leftoverPrivate = readdirSync(runtimeDir).length;
  if (s.startMarker) await oneRun(s, undefined);
  const afterNextRun = readdirSync(runtimeDir).length;
  removeAll(runtimeDir, readdirSync(runtimeDir));
  console.log(
    `hardening: crash ${s.name}: ${RUNS} runs over ~${duration} ms (file replaced at ~${renameAt} ms), ${killed} killed mid-run (${retried} finished first and were tried again earlier), ${asOld} old version, ${asNew} new version, ${corrupted} corrupted, ${leftoverTemps} leftover temp files` +
      (s.startMarker ? `, ${leftoverPrivate} private edit dir(s) left by the last kill, ${afterNextRun} after the next edit` : ''),
  );
  expect(corrupted).toBe(0);
  expect(afterNextRun).toBe(0);
  expect(killed).toBe(RUNS);
}

function scenarioDir(name: string): string {
  const dir = join(sb.dir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('kill -9 during in-place rewrites', () => {
  it(`encrypt -i of a ${VALUES}-value plaintext YAML`, async () => {
    const dir = scenarioDir('encrypt');
    await crashScenario({
      name: 'encrypt -i',
      dir,
      target: join(dir, 'secrets.yaml'),
      old: Buffer.from(plaintext),
      args: ['encrypt', '--age', sb.recipient, '-i', 'secrets.yaml'],
      expected: plaintext,
    });
  }, 300_000);

  it(`edit of a ${VALUES}-value file, killed while the edit is saved`, async () => {
    const dir = scenarioDir('edit');
    const editor = join(dir, 'editor.sh');
    // sh and sed: the editor is done in a few milliseconds, so the save is what the kills hit.
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/^key7: .*$/key7: edited/" "$1" && echo EDITOR-SAVED >&2\n', { mode: 0o755 });
    await crashScenario({
      name: 'edit',
      dir,
      target: join(dir, 'secrets.enc.yaml'),
      old: encrypted,
      args: ['edit', 'secrets.enc.yaml'],
      env: { EDITOR: editor, XDG_RUNTIME_DIR: runtimeDir },
      expected: plaintext.replace(/^key7: .*$/m, 'key7: edited'),
      startMarker: 'EDITOR-SAVED',
    });
  }, 300_000);

  it(`rotate -i of a ${VALUES}-value file`, async () => {
    const dir = scenarioDir('rotate');
    await crashScenario({
      name: 'rotate -i',
      dir,
      target: join(dir, 'secrets.enc.yaml'),
      old: encrypted,
      args: ['rotate', '-i', 'secrets.enc.yaml'],
      expected: plaintext,
      // A new data key re-encrypts every value: no value line may survive.
      newCheck: (bytes) => !bytes.toString('utf8').includes(/key1: (ENC\[[^\]]*\])/.exec(encrypted.toString('utf8'))![1]!),
    });
  }, 300_000);

  it(`updatekeys --yes adding a second age recipient to a ${VALUES}-value file`, async () => {
    const dir = scenarioDir('updatekeys');
    const second = await throwawayAgeKey();
    writeFileSync(join(dir, '.sopsrc'), `creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: ${sb.recipient},${second.recipient}\n`);
    await crashScenario({
      name: 'updatekeys --yes',
      dir,
      target: join(dir, 'secrets.enc.yaml'),
      old: encrypted,
      args: ['updatekeys', '--yes', 'secrets.enc.yaml'],
      expected: plaintext,
      newCheck: (bytes) => bytes.toString('utf8').includes(second.recipient),
    });
  }, 300_000);
});
