/**
 * Names that come from files (recipients in metadata, key names, paths) reach
 * the terminal escaped: no ESC, BEL, C1 control, bidi override or raw newline
 * in anything tsops prints about them. Decrypted data on stdout is untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from '../support/cli.js';
import { gitEnv } from '../support/git.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

/** OSC title, BEL, clear screen (CSI), the one-byte C1 CSI, a right-to-left override, a newline. */
const HOSTILE_YAML = '\\e]0;pwned\\a\\e[2J\\u009b31m\\u202eX\\nY';
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

function expectClean(text: string): void {
  expect(text).not.toMatch(RAW);
  expect(text).not.toContain('\u202e');
}

/** Every line of stderr is one tsops line: a newline from a file never starts another. */
function expectTsopsLines(stderr: string): void {
  for (const line of stderr.trimEnd().split('\n')) expect(line).toMatch(/^tsops: /);
}

const noKeys = { SOPS_AGE_KEY_FILE: join('/nonexistent', 'keys.txt') };

function hostileRecipientFile(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'plain.yaml'), 'token: hunter2\n');
  const encrypted = sb.run(['encrypt', '--age', sb.recipient, join(dir, 'plain.yaml')]);
  expect(encrypted.status).toBe(0);
  const path = join(dir, 'hostile.enc.yaml');
  writeFileSync(path, encrypted.stdout.replace(/recipient: (age1\w+)/, (_, r: string) => `recipient: "${r}${HOSTILE_YAML}"`));
  expect(readFileSync(path, 'utf8')).toContain('\\e]0;pwned');
  return path;
}

describe('hostile metadata', () => {
  it('an error listing a planted recipient escapes it', () => {
    const path = hostileRecipientFile(join(sb.dir, 'meta'));
    const r = sb.run(['decrypt', '--verbose', path], { env: noKeys });
    expect(r.status).toBe(128);
    expectClean(r.stderr);
    expectTsopsLines(r.stderr);
    expect(r.stderr).toContain('\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u{202e}X\\x0aY');
    expect(r.stderr).not.toContain('hunter2');
  });

  it('status escapes it, as text and as JSON (which still parses to the same name)', () => {
    const dir = join(sb.dir, 'status');
    hostileRecipientFile(dir);
    const text = sb.run(['status', dir]);
    expect(text.status).toBe(0);
    expectClean(text.stdout);
    expect(text.stdout).toContain('\\x9b31m\\u{202e}X\\x0aY');
    const json = sb.run(['status', '--json', dir]);
    expect(json.status).toBe(0);
    expectClean(json.stdout);
    const ids = (JSON.parse(json.stdout) as { files: { groups: { keys: { id: string }[] }[] }[] }).files[0]!.groups[0]!.keys.map((k) => k.id);
    expect(ids.some((id) => id.endsWith('\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eX\nY'))).toBe(true);
  });

  it('updatekeys escapes it in the key changes it lists', () => {
    const dir = join(sb.dir, 'update');
    const path = hostileRecipientFile(dir);
    writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - age: ${sb.recipient}\n`);
    const r = sb.run(['updatekeys', '--yes', path], { cwd: dir });
    expect(r.status).toBe(0);
    expectClean(r.stdout);
    expectClean(r.stderr);
    expect(r.stdout).toContain('\\x1b]0;pwned');
  });

  it('filestatus writes planted file names as JSON escapes', () => {
    const dir = join(sb.dir, 'filestatus');
    mkdirSync(dir);
    const names = ['a\u009b2J.yaml', 'b\u202ec.yaml'].map((n) => join(dir, n));
    for (const n of names) writeFileSync(n, 'k: v\n');
    const r = sb.run(['filestatus', ...names]);
    expect(r.status).toBe(0);
    expectClean(r.stdout);
    expect((JSON.parse(r.stdout) as { file: string }[]).map((f) => f.file)).toEqual(names);
  });

  it('decrypted data on stdout is the user\'s and is not escaped', () => {
    const dir = join(sb.dir, 'data');
    mkdirSync(dir);
    writeFileSync(join(dir, 'p.yaml'), 'banner: "\\e[1mbold\\e[0m"\n');
    const enc = sb.run(['encrypt', '--age', sb.recipient, '--output', join(dir, 'e.yaml'), join(dir, 'p.yaml')]);
    expect(enc.status).toBe(0);
    const dec = sb.run(['decrypt', '--extract', '["banner"]', join(dir, 'e.yaml')]);
    expect(dec.stdout).toBe('\u001b[1mbold\u001b[0m');
  });
});

describe('hostile key names', () => {
  const KEY = `"pw${HOSTILE_YAML}"`;

  it('the guard escapes a planted key name and a planted file name', () => {
    const dir = join(sb.dir, 'repo');
    mkdirSync(dir);
    const env = gitEnv(sb);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env });
    git('init', '-q');
    writeFileSync(join(dir, '.gitattributes'), '*.yaml diff=tsops\n');
    writeFileSync(join(dir, 'a.yaml'), `${KEY}: hunter2\n`);
    writeFileSync(join(dir, 'b\u001b[2J\u009b.yaml'), 'x: hunter2\n');
    git('add', '-A');
    const r = sb.run(['guard'], { cwd: dir, env });
    expect(r.status).toBe(1);
    expectClean(r.stderr);
    expectTsopsLines(r.stderr);
    expect(r.stderr).toContain('a.yaml is not encrypted (plaintext at ["pw\\u001b]0;pwned\\u0007\\u001b[2J\\x9b31m\\u{202e}X\\nY"])');
    expect(r.stderr).toContain('tsops: b\\x1b[2J\\x9b.yaml is not encrypted');
    expect(r.stderr).not.toContain('hunter2');
  });

  it('a decryption error naming a tampered value under a planted key escapes it', () => {
    const dir = join(sb.dir, 'keys');
    mkdirSync(dir);
    writeFileSync(join(dir, 'p.yaml'), `${KEY}: hunter2\n`);
    const enc = sb.run(['encrypt', '--age', sb.recipient, join(dir, 'p.yaml')]);
    expect(enc.status).toBe(0);
    writeFileSync(join(dir, 'e.yaml'), enc.stdout.replace(/: ENC\[AES256_GCM,data:[^,]+/, ': ENC[AES256_GCM,data:AAAA'));
    const r = sb.run(['decrypt', join(dir, 'e.yaml')]);
    expect(r.status).not.toBe(0);
    expectClean(r.stderr);
    expectTsopsLines(r.stderr);
    expect(r.stderr).toContain('\\x9b31m\\u{202e}X');
  });

  it('a command-line error quoting a planted argument escapes it', () => {
    const r = sb.run(['decrypt', '--no-such-flag\u001b[2J\u009b']);
    expect(r.status).not.toBe(0);
    expectClean(r.stderr);
    expectTsopsLines(r.stderr);
  });
});
