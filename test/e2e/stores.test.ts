/**
 * What each store's descriptor says, through the built CLI: the `stores:`
 * config section reaches the store it names (and only stores that take an
 * indent accept one), `--input-type` lists the registry's stores, and
 * `--extract` writes a lone value the way the output store writes values.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
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

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`tsops failed with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A directory with this `.sops.yaml` and a plaintext file `name`. */
function project(config: string, name: string, text: string): string {
  const dir = mkdtempSync(join(box.dir, 'p-'));
  writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - age: ${box.recipient}\n${config}`);
  writeFileSync(join(dir, name), text);
  return dir;
}

describe('the stores: section', () => {
  it('indents each store as its own entry says', () => {
    const config = 'stores:\n  yaml: {indent: 2}\n  json: {indent: 3}\n  json_binary: {indent: 1}\n  dotenv: {}\n  ini: {}\n';
    // A file converted to another store is written in that store's own layout, where the indent applies.
    const cases: [string, string, string, RegExp][] = [
      ['a.json', `{"outer": {"inner": "${SECRET}"}}\n`, 'yaml', /^outer:\n {2}inner: ENC\[/],
      ['a.yaml', `outer:\n    inner: ${SECRET}\n`, 'json', /^\{\n {3}"outer": \{\n {6}"inner": "ENC\[/],
      ['a.bin', `${SECRET}\n`, 'binary', /^\{\n {1}"data": "ENC\[/],
    ];
    for (const [name, text, type, shape] of cases) {
      const dir = project(config, name, text);
      const out = ok(box.run(['encrypt', '--output-type', type, name], { cwd: dir }));
      expect(out, name).toMatch(shape);
      expect(out).not.toContain(SECRET);
    }
  });

  it('refuses an indent for a store that takes none, and a key no store has', () => {
    for (const [config, message] of [
      ['stores:\n  ini:\n    indent: 2\n', /unknown field 'indent' in stores\.ini/],
      ['stores:\n  toml: {}\n', /unknown field 'toml' in stores/],
    ] as const) {
      const dir = project(config, 'a.yaml', `a: ${SECRET}\n`);
      const r = box.run(['encrypt', 'a.yaml'], { cwd: dir });
      expect(r.status).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain(SECRET);
    }
  });
});

describe('the CLI reads store names from the registry', () => {
  it('--input-type names every store', () => {
    const r = box.run(['decrypt', '--input-type', 'toml', 'x']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--input-type must be one of yaml, json, ini, dotenv, binary');
  });

  it('--extract writes a lone number as the output store writes values', () => {
    const dir = project('', 'a.yaml', 'n: 5\nlist: [1, two]\n');
    writeFileSync(join(dir, 'e.yaml'), ok(box.run(['encrypt', 'a.yaml'], { cwd: dir })));
    const extract = (path: string, type: string): string => ok(box.run(['decrypt', '--extract', path, '--output-type', type, 'e.yaml'], { cwd: dir }));
    expect(extract('["n"]', 'json')).toBe('5\n');
    expect(extract('["n"]', 'dotenv')).toBe('5\n');
    expect(extract('["list"]', 'json')).toBe('[\n\t1,\n\t"two"\n]\n');
    expect(extract('["list"]', 'yaml')).toBe('- 1\n- two\n');
    expect(box.run(['decrypt', '--extract', '["list"]', '--output-type', 'dotenv', 'e.yaml'], { cwd: dir }).stderr).toMatch(/dotenv cannot hold nested values/);
  });
});
