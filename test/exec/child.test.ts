import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exitStatus, runChild } from '../../src/exec/child.js';
import { FORWARDED_SIGNALS } from '../../src/io/process-lifecycle.js';
import { TsopsError } from '../../src/errors.js';

const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
const cwd = process.cwd();

afterEach(() => {
  // The relay is installed only while a child runs.
  for (const s of FORWARDED_SIGNALS) expect(process.listenerCount(s)).toBe(0);
});

describe('runChild', () => {
  it.each([0, 1, 42, 255])('returns exit code %i', async (code) => {
    expect(await runChild({ shell: `exit ${code}` }, { env, cwd })).toEqual({ code });
  });

  it('runs an argument vector without a shell: no expansion', async () => {
    const outcome = await runChild({ argv: ['sh', '-c', 'test "$1" = "\\$HOME *" && exit 7', 'x', '$HOME *'] }, { env, cwd });
    expect(outcome).toEqual({ code: 7 });
  });

  it('passes the environment and the working directory', async () => {
    expect(await runChild({ shell: 'test "$ONLY" = yes && test "$(pwd)" = /' }, { env: { ...env, ONLY: 'yes' }, cwd: '/' })).toEqual({ code: 0 });
    expect(await runChild({ shell: 'test -z "$HOME_FROM_PARENT"' }, { env, cwd })).toEqual({ code: 0 });
  });

  it('reports the signal that killed the child', async () => {
    expect(await runChild({ shell: 'kill -KILL $$' }, { env, cwd })).toEqual({ signal: 'SIGKILL' });
    expect(await runChild({ shell: 'kill -TERM $$' }, { env, cwd })).toEqual({ signal: 'SIGTERM' });
  });

  it('forwards a signal tsops receives and waits for the child to finish', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsops-child-'));
    const ready = join(dir, 'trap-installed');
    try {
      // The signal goes out only once the child says its trap is in place.
      const whenReady = (): void => {
        if (existsSync(ready)) process.kill(process.pid, 'SIGUSR2');
        else setTimeout(whenReady, 10);
      };
      const outcome = runChild({ shell: `trap 'exit 3' USR2; : > '${ready}'; while :; do sleep 0.05; done` }, { env, cwd, onSpawn: whenReady });
      expect(await outcome).toEqual({ code: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing command is 127 and a non-executable one 126, as a shell says', async () => {
    await expect(runChild({ argv: ['/nonexistent/cmd'] }, { env, cwd })).rejects.toMatchObject({ kind: 'command-not-found', message: '/nonexistent/cmd: command not found' });
    const dir = mkdtempSync(join(tmpdir(), 'tsops-child-'));
    try {
      const plain = join(dir, 'not-a-program');
      writeFileSync(plain, 'x');
      chmodSync(plain, 0o644);
      await expect(runChild({ argv: [plain] }, { env, cwd })).rejects.toMatchObject({ kind: 'command-not-executable' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await expect(runChild({ argv: [] }, { env, cwd })).rejects.toBeInstanceOf(TsopsError);
  });
});

describe('exitStatus', () => {
  it('is the code, or 128 + the signal number', () => {
    expect(exitStatus({ code: 42 })).toBe(42);
    expect(exitStatus({ signal: 'SIGKILL' })).toBe(137);
    expect(exitStatus({ signal: 'SIGINT' })).toBe(130);
    expect(exitStatus({ signal: 'SIGPIPE' })).toBe(141);
  });
});
