import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { throwawayAgeKey } from './pipeline.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The package's bin: what `tsops` runs once installed, on every platform. */
export const TSOPS = join(ROOT, 'bin', 'tsops.cjs');
export { INTEROP } from './interop.js';

export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  recipient: string;
  identity: string;
  run(args: string[], options?: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string }): SpawnSyncReturns<string>;
  cleanup(): void;
}

/** A temp dir with a throwaway age key, and an environment that reads nothing of the real user's. */
export async function sandbox(): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-test-'));
  const key = await throwawayAgeKey();
  const keyFile = join(dir, 'keys.txt');
  writeFileSync(keyFile, `${key.identity}\n`, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, '.config'),
    SOPS_AGE_KEY_FILE: keyFile,
    LANG: 'C.UTF-8',
  };
  return {
    dir,
    env,
    recipient: key.recipient,
    identity: key.identity,
    run(args, options = {}) {
      return spawnSync(process.execPath, [TSOPS, ...args], {
        cwd: options.cwd ?? dir,
        env: { ...env, ...options.env },
        input: options.input ?? '',
        encoding: 'utf8',
        timeout: 60_000,
      });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts tsops without waiting, for tests that signal it; stdout 'ignore' keeps a large output from blocking it. */
export function spawnTsops(args: string[], env: NodeJS.ProcessEnv, cwd: string, stdio: 'pipe' | 'ignore' = 'pipe') {
  return spawn(process.execPath, [TSOPS, ...args], { cwd, env, stdio: [stdio, stdio, 'pipe'] });
}

/** A scripted $EDITOR (test/support/fake-editor.mjs): FAKE_EDITOR_ACTIONS says what it does, FAKE_EDITOR_LOG records each run. */
export const FAKE_EDITOR = `${process.execPath} ${join(ROOT, 'test/support/fake-editor.mjs')}`;
