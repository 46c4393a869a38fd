import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TsopsError } from '../../src/errors.js';
import { readInput } from '../../src/io/input.js';
import { ExitCode, exitCodeOfError } from '../../src/cli/exit-codes.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsops-input-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<TsopsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TsopsError);
    return e as TsopsError;
  }
  throw new Error('expected the read to fail');
}

describe('readInput', () => {
  it('returns the exact bytes of a file, binary included', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13]);
    writeFileSync(join(dir, 'b'), bytes);
    expect((await readInput(join(dir, 'b'))).equals(bytes)).toBe(true);
  });

  it('reads an empty file as empty', async () => {
    writeFileSync(join(dir, 'e'), '');
    expect((await readInput(join(dir, 'e'))).length).toBe(0);
  });

  it('a missing file is exit 100 "no such file", naming the file', async () => {
    const path = join(dir, 'nope.yaml');
    const e = await rejection(readInput(path));
    expect(exitCodeOfError(e)).toBe(ExitCode.NoFileSpecified);
    expect(e.message).toBe('no such file');
    expect(e.file).toBe(path);
  });

  it('a directory is exit 2', async () => {
    const e = await rejection(readInput(dir));
    expect(exitCodeOfError(e)).toBe(ExitCode.CouldNotReadInputFile);
    expect(e.message).toBe('is a directory');
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file is exit 2 "permission denied"', async () => {
    const path = join(dir, 'locked');
    writeFileSync(path, 'x');
    chmodSync(path, 0o000);
    const e = await rejection(readInput(path));
    expect(exitCodeOfError(e)).toBe(ExitCode.CouldNotReadInputFile);
    expect(e.message).toBe('permission denied');
  });

  it('a path through a file is exit 2, not a crash', async () => {
    writeFileSync(join(dir, 'f'), 'x');
    const e = await rejection(readInput(join(dir, 'f', 'child')));
    expect(exitCodeOfError(e)).toBe(ExitCode.CouldNotReadInputFile);
  });
});

describe('readInput from stdin', () => {
  // stdin belongs to the test runner here, so read it in a child process.
  const script = `import { readInput } from ${JSON.stringify(resolve(import.meta.dirname, '../../src/io/input.ts'))};
const arg = process.argv[2] === 'none' ? undefined : process.argv[2];
const bytes = await readInput(arg);
process.stdout.write(bytes.toString('hex'));`;

  function viaChild(arg: string, input: Buffer): string {
    const tsx = resolve(import.meta.dirname, '../../node_modules/tsx/dist/cli.mjs');
    const file = join(dir, 'read-stdin.mts');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [tsx, file, arg], { input, encoding: 'utf8', timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
    expect(r.stderr).toBe('');
    return r.stdout;
  }

  it('reads all of stdin for "-" and for no file, larger than one pipe buffer', () => {
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 256;
    expect(viaChild('-', big)).toBe(big.toString('hex'));
    expect(viaChild('none', Buffer.from('a: 1\n'))).toBe(Buffer.from('a: 1\n').toString('hex'));
  });

  it('reads an empty stdin as empty', () => {
    expect(viaChild('-', Buffer.alloc(0))).toBe('');
  });
});
