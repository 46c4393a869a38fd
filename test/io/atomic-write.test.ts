import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/io/atomic-write.js';
import { ExitCode, exitCodeOfError } from '../../src/cli/exit-codes.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsops-atomic-'));
});
afterEach(() => {
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (path: string): number => statSync(path).mode & 0o7777;
const isRoot = process.getuid?.() === 0;

async function rejection(p: Promise<unknown>): Promise<OutputError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OutputError);
    return e as OutputError;
  }
  throw new Error('expected the write to fail');
}

describe('writeFileAtomic', () => {
  it('creates a new file with the bytes given and mode 0644 by default', async () => {
    const target = join(dir, 'new.yaml');
    await writeFileAtomic(target, Buffer.from('a: 1\n'));
    expect(readFileSync(target, 'utf8')).toBe('a: 1\n');
    expect(modeOf(target)).toBe(0o644);
  });

  it('creates a new file with the mode asked for (0600 for plaintext)', async () => {
    const target = join(dir, 'plain.yaml');
    await writeFileAtomic(target, Buffer.from('secret'), { mode: 0o600 });
    expect(modeOf(target)).toBe(0o600);
  });

  it("replaces an existing file and keeps that file's mode, not the one asked for", async () => {
    const target = join(dir, 'kept.yaml');
    writeFileSync(target, 'old contents that are longer than the new ones\n');
    chmodSync(target, 0o640);
    await writeFileAtomic(target, Buffer.from('new\n'), { mode: 0o600 });
    expect(readFileSync(target, 'utf8')).toBe('new\n');
    expect(modeOf(target)).toBe(0o640);
  });

  it('writes empty data and binary data exactly', async () => {
    const target = join(dir, 'bin');
    await writeFileAtomic(target, new Uint8Array(0));
    expect(readFileSync(target).length).toBe(0);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        await writeFileAtomic(target, bytes);
        expect(new Uint8Array(readFileSync(target))).toEqual(bytes);
      }),
      { numRuns: 30 },
    );
  });

  it('leaves no temp file behind after success', async () => {
    await writeFileAtomic(join(dir, 'a'), Buffer.from('1'));
    await writeFileAtomic(join(dir, 'a'), Buffer.from('2'));
    expect(readdirSync(dir)).toEqual(['a']);
  });

  it('writes through a symlink to the real file, and the link stays a link', async () => {
    const real = join(dir, 'real');
    const link = join(dir, 'link');
    writeFileSync(real, 'real\n');
    symlinkSync(real, link);
    await writeFileAtomic(link, Buffer.from('new\n'));
    expect(readFileSync(real, 'utf8')).toBe('new\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('fails with exit 3 and a one-line message naming the file when the directory is missing', async () => {
    const target = join(dir, 'missing', 'x.yaml');
    const e = await rejection(writeFileAtomic(target, Buffer.from('x')));
    expect(exitCodeOfError(e)).toBe(ExitCode.CouldNotWriteOutputFile);
    expect(e.file).toBe(target);
    expect(e.message).toBe('cannot write: no such directory');
  });

  it('fails with exit 3 when the target is a directory, and leaves no temp file', async () => {
    const target = join(dir, 'sub');
    mkdirSync(target);
    const e = await rejection(writeFileAtomic(target, Buffer.from('x')));
    expect(exitCodeOfError(e)).toBe(ExitCode.CouldNotWriteOutputFile);
    expect(readdirSync(dir)).toEqual(['sub']);
    expect(readdirSync(target)).toEqual([]);
  });

  it.skipIf(isRoot)('fails with exit 3 in a read-only directory and keeps the old file', async () => {
    const target = join(dir, 'old.yaml');
    writeFileSync(target, 'old\n');
    chmodSync(dir, 0o500);
    const e = await rejection(writeFileAtomic(target, Buffer.from('new\n')));
    expect(e.message).toBe('cannot write: permission denied');
    chmodSync(dir, 0o700);
    expect(readFileSync(target, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['old.yaml']);
  });

  it('never puts the data in the error message', async () => {
    const e = await rejection(writeFileAtomic(join(dir, 'no', 'such'), Buffer.from('hunter2')));
    expect(e.message).not.toContain('hunter2');
  });

  it('concurrent writers each leave a whole file, never a mix', async () => {
    const target = join(dir, 'race');
    const payloads = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024, 65 + i));
    await Promise.all(payloads.map((p) => writeFileAtomic(target, p)));
    const result = readFileSync(target);
    expect(payloads.some((p) => p.equals(result))).toBe(true);
    expect(readdirSync(dir)).toEqual(['race']);
  });
});
