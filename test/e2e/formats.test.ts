/**
 * Strict input formats through the built CLI: text that is not the format is
 * an error (never copied through in plaintext), encrypted files decrypt
 * whatever their name, and YAML block scalars at the end of a file read as
 * go-yaml reads them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpawnSyncReturns } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../support/cli.js';

const SECRET = 'hunter2-SECRET';
let box: Sandbox;
beforeAll(async () => {
  box = await sandbox();
});
afterAll(() => box.cleanup());

const file = (name: string): string => join(box.dir, name);
const write = (name: string, text: string | Buffer): string => {
  writeFileSync(file(name), text);
  return file(name);
};
const read = (name: string): string => readFileSync(file(name), 'utf8');

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`tsops failed with ${r.status}: ${r.stderr}`);
  expect(r.stderr).toBe('');
  return r.stdout;
}

/** Exit code, nothing on stdout, one `tsops: FILE: ` line on stderr, no secret. */
function fails(r: SpawnSyncReturns<string>, code: number, message: RegExp): void {
  expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: code });
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^tsops: [^\n]+: [^\n]+\n$/);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toContain(SECRET);
  expect(r.stderr).not.toContain('evil');
}

const encrypt = (name: string, ...flags: string[]): string => ok(box.run(['encrypt', '--age', box.recipient, ...flags, file(name)]));

describe('input that is not the format is an error, never copied through', () => {
  it('JSON with a second object after the first: encrypt exits 2 and writes nothing', () => {
    write('two.json', `{"a": "${SECRET}"}\n{"b": "evil"}\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('two.json')]), 2, /two\.json: invalid JSON at line 2, column 1: unexpected text after the top-level object/);
    fails(box.run(['encrypt', '-i', '--age', box.recipient, file('two.json')]), 2, /unexpected text after the top-level object/);
    expect(read('two.json')).toBe(`{"a": "${SECRET}"}\n{"b": "evil"}\n`);
  });

  it('an encrypted JSON file with an object appended does not decrypt (exit 1, nothing printed)', () => {
    write('one.json', `{"a": "${SECRET}"}\n`);
    const enc = encrypt('one.json');
    write('tampered.json', enc + '{"b": "evil"}\n');
    fails(box.run(['decrypt', file('tampered.json')]), 1, /tampered\.json: invalid JSON at line \d+, column 1: unexpected text after the top-level object/);
    fails(box.run(['decrypt', '--extract', '["a"]', file('tampered.json')]), 1, /unexpected text/);
    // Trailing whitespace is still JSON.
    write('spaced.json', enc + '\n \t\n');
    expect(JSON.parse(ok(box.run(['decrypt', file('spaced.json')])))).toEqual({ a: SECRET });
  });

  it('a YAML line starting with % that is not a go-yaml directive: exit 2, nothing written', () => {
    write('dir.yaml', `%${SECRET}\n---\na: b\n`);
    fails(box.run(['encrypt', '-i', '--age', box.recipient, file('dir.yaml')]), 2, /dir\.yaml: invalid YAML at line 1, column 1: unknown directive/);
    expect(read('dir.yaml')).toBe(`%${SECRET}\n---\na: b\n`);
    write('v12.yaml', `%YAML 1.2\n---\na: ${SECRET}\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('v12.yaml')]), 2, /incompatible YAML version/);
    write('nodoc.yaml', `%YAML 1.1\na: ${SECRET}\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('nodoc.yaml')]), 2, /a directive must be followed by ---/);
  });

  it('valid directives (%YAML 1.1, %TAG) are kept as structure; every value is encrypted', () => {
    write('ok.yaml', `%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\na: ${SECRET}\n`);
    const enc = encrypt('ok.yaml');
    expect(enc.startsWith('%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\na: ENC[')).toBe(true);
    expect(enc).not.toContain(SECRET);
    write('ok.enc.yaml', enc);
    expect(ok(box.run(['decrypt', file('ok.enc.yaml')]))).toBe(`%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\na: ${SECRET}\n`);
  });

  it('a directive planted in an encrypted YAML file makes it malformed (exit 1)', () => {
    write('plain.yaml', `a: ${SECRET}\n`);
    const enc = encrypt('plain.yaml');
    write('planted.yaml', '%EVIL evil\n---\n' + enc);
    fails(box.run(['decrypt', file('planted.yaml')]), 1, /planted\.yaml: invalid YAML at line 1, column 1: unknown directive/);
  });

  it('dotenv and INI lines that are neither data nor comments are errors', () => {
    write('bad.env', `A=${SECRET}\njust some words\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('bad.env')]), 2, /bad\.env: invalid dotenv at line 2: expected KEY=VALUE/);
    write('bad.ini', `[s]\na = ${SECRET}\njust some words\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('bad.ini')]), 2, /bad\.ini: invalid INI at line 3: expected key = value/);
    write('good.env', `A=${SECRET}\n`);
    write('planted.env', encrypt('good.env') + 'evil words\n');
    fails(box.run(['decrypt', file('planted.env')]), 1, /planted\.env: invalid dotenv at line \d+: expected KEY=VALUE/);
  });
});

describe('a YAML block scalar that ends the file without a line break', () => {
  it.each([
    ['|', 'multi\nline'], ['|-', 'multi\nline'], ['|+', 'multi\nline'],
    ['>', 'multi line'], ['>-', 'multi line'], ['>+', 'multi line'],
  ])('a: %s carries the value go-yaml reads, through encrypt, --extract and conversion', (indicator, want) => {
    write('block.yaml', `a: ${indicator}\n  multi\n  line`);
    write('block.enc.yaml', encrypt('block.yaml'));
    expect(ok(box.run(['decrypt', '--extract', '["a"]', file('block.enc.yaml')]))).toBe(want);
    const json = ok(box.run(['decrypt', '--output-type', 'json', file('block.enc.yaml')]));
    expect(JSON.parse(json)).toEqual({ a: want });
  });
});
