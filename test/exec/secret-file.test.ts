import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSecretFileName, createSecretFile } from '../../src/exec/secret-file.js';
import { TsopsError } from '../../src/errors.js';

const base = mkdtempSync(join(tmpdir(), 'tsops-secret-file-'));
// Only this test's own directory: XDG_RUNTIME_DIR is tried first.
const env = { XDG_RUNTIME_DIR: base };
afterAll(() => rmSync(base, { recursive: true, force: true }));

const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** Reads the path from another process, as the command will. */
function readInChild(path: string, command = 'cat "$1"'): Promise<{ out: Buffer; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command, 'sh', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('close', (code) => resolve({ out: Buffer.concat(chunks), code }));
  });
}

describe('createSecretFile (FIFO)', () => {
  it('serves the text once through a 0600 FIFO in a 0700 directory, then removes the directory', async () => {
    const content = text('password: hunter2\n');
    const file = createSecretFile(content, { env });
    expect(file.path).toBe(join(file.dir, 'tmp-file'));
    expect(file.dir.startsWith(base)).toBe(true);
    expect(statSync(file.dir).mode & 0o777).toBe(0o700);
    const st = lstatSync(file.path);
    expect(st.isFIFO()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    const { out, code } = await readInChild(file.path);
    expect(code).toBe(0);
    expect(out.toString()).toBe('password: hunter2\n');
    await file.close();
    expect(existsSync(file.dir)).toBe(false);
    expect(content.every((b) => b === 0)).toBe(true);
  });

  it('passes text larger than a pipe buffer intact', async () => {
    const big = Buffer.alloc(1_000_000);
    for (let i = 0; i < big.length; i++) big[i] = 97 + (i % 26);
    const expected = Buffer.from(big);
    const file = createSecretFile(big, { env });
    const { out } = await readInChild(file.path);
    await file.close();
    expect(out.equals(expected)).toBe(true);
  });

  it('closes promptly when the command never opens the path', async () => {
    const file = createSecretFile(text('never read'), { env });
    const started = Date.now();
    await file.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(existsSync(file.dir)).toBe(false);
  });

  it('closes promptly when the reader stops early or removes the FIFO', async () => {
    const file = createSecretFile(Buffer.alloc(1_000_000, 120), { env });
    const { out } = await readInChild(file.path, 'head -c 10 "$1"');
    expect(out.toString()).toBe('x'.repeat(10));
    await file.close();
    expect(existsSync(file.dir)).toBe(false);

    const removed = createSecretFile(text('gone'), { env });
    rmSync(removed.path);
    await removed.close();
    expect(existsSync(removed.dir)).toBe(false);
  });

  it('serves the whole text to every open, one after another, until closed', async () => {
    const file = createSecretFile(text('every time'), { env });
    for (let i = 0; i < 3; i++) expect((await readInChild(file.path)).out.toString()).toBe('every time');
    expect((await readInChild(file.path, 'exec 3<"$1" 4<"$1"; cat <&4; cat <&3')).out.toString()).toBe('every timeevery time');
    expect(lstatSync(file.path).isFIFO()).toBe(true);
    await file.close();
    expect(existsSync(file.path)).toBe(false);
  });

  it('--filename may name a subdirectory, which is created private', async () => {
    const file = createSecretFile(text('a: 1\n'), { env, name: 'conf/app.yaml' });
    expect(file.path).toBe(join(file.dir, 'conf', 'app.yaml'));
    expect(statSync(join(file.dir, 'conf')).mode & 0o777).toBe(0o700);
    expect((await readInChild(file.path)).out.toString()).toBe('a: 1\n');
    await file.close();
    expect(existsSync(file.dir)).toBe(false);
  });
});

describe('createSecretFile (regular file)', () => {
  it('writes a 0600 file, zeroes our copy, and removes it on close', async () => {
    const content = text('TOKEN=abc\n');
    const file = createSecretFile(content, { env, fifo: false, name: 'secrets.env' });
    const st = lstatSync(file.path);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(readFileSync(file.path, 'utf8')).toBe('TOKEN=abc\n');
    expect(content.every((b) => b === 0)).toBe(true);
    await file.close();
    expect(existsSync(file.dir)).toBe(false);
  });

  it('is removed when the process exits even without close', () => {
    const script = `
      const { createSecretFile } = await import(${JSON.stringify(new URL('../../src/exec/secret-file.ts', import.meta.url).pathname)});
      const f = createSecretFile(new Uint8Array([1, 2, 3]), { fifo: false, env: { XDG_RUNTIME_DIR: ${JSON.stringify(base)} } });
      console.log(f.dir);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const dir = r.stdout.trim();
    expect(dir.startsWith(base)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('checkSecretFileName', () => {
  it.each(['', '/etc/passwd', '../x', 'a/../../x', './x', 'a//b', 'a/', 'nul\0'])('refuses %j', (name) => {
    expect(() => checkSecretFileName(name)).toThrow(TsopsError);
  });

  it.each(['tmp-file', 'secrets.yaml', 'a/b.json', '.env', '..hidden'])('accepts %j', (name) => {
    expect(checkSecretFileName(name)).toBe(name);
  });

  it('creates nothing for a refused name', () => {
    const before = spawnSync('ls', [base], { encoding: 'utf8' }).stdout;
    expect(() => createSecretFile(text('x'), { env, name: '../escape' })).toThrow(/--filename/);
    expect(spawnSync('ls', [base], { encoding: 'utf8' }).stdout).toBe(before);
  });
});
