/** set, unset and encrypt --output over an existing file change only what changed (checked with git). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from '../support/cli.js';

let sb: Sandbox;
let n = 0;
beforeAll(async () => {
  sb = await sandbox();
  execFileSync('git', ['init', '-q'], { cwd: sb.dir });
});
afterAll(() => sb.cleanup());

const git = (...args: string[]): string => execFileSync('git', args, { cwd: sb.dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e' } });

const samples = {
  yaml: { ext: 'yaml', text: 'db:\n    user: admin\n    password: hunter2\napi_token: tok-1\n', changed: (t: string) => t.replace('hunter2', 'swordfish') },
  json: { ext: 'json', text: '{\n\t"db": {\n\t\t"user": "admin",\n\t\t"password": "hunter2"\n\t},\n\t"api_token": "tok-1"\n}\n', changed: (t: string) => t.replace('hunter2', 'swordfish') },
  dotenv: { ext: 'env', text: 'DB_USER=admin\nDB_PASSWORD=hunter2\nAPI_TOKEN=tok-1\n', changed: (t: string) => t.replace('hunter2', 'swordfish') },
} as const;

function committed(kind: keyof typeof samples): { file: string; plain: string } {
  const s = samples[kind];
  const plain = join(sb.dir, `p${++n}.${s.ext}`);
  writeFileSync(plain, s.text);
  const file = join(sb.dir, `s${n}.enc.${s.ext}`);
  const r = sb.run(['encrypt', '--age', sb.recipient, '--output', file, plain]);
  expect(r.status).toBe(0);
  git('add', file);
  git('commit', '-qm', 'add');
  return { file, plain };
}

/** Lines changed in the working tree, minus the metadata lines every write renews (lastmodified, the MAC, the structure binding). */
function changedLines(file: string): string[] {
  return git('diff', '-U0', '--', file)
    .split('\n')
    .filter((l) => /^[-+][^-+]/.test(l))
    // By key name at the start of the line: a ciphertext can hold "mac" by chance.
    .filter((l) => !/^[-+]\s*"?(sops_)?(lastmodified|mac|tsops_structure)"?\s*[:=]/.test(l));
}

const paths = { yaml: '["db"]["password"]', json: '["db"]["password"]', dotenv: '["DB_PASSWORD"]' } as const;
const tokenPaths = { yaml: '["api_token"]', json: '["api_token"]', dotenv: '["API_TOKEN"]' } as const;

describe.each(Object.keys(samples) as (keyof typeof samples)[])('%s', (kind) => {
  it('set changes one value line; setting the same value again with --idempotent writes nothing', () => {
    const { file } = committed(kind);
    expect(sb.run(['set', file, paths[kind], '"swordfish"']).status).toBe(0);
    const lines = changedLines(file);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => /password/i.test(l))).toBe(true);
    git('commit', '-qam', 'set');
    const before = readFileSync(file);
    expect(sb.run(['set', '--idempotent', file, paths[kind], '"swordfish"']).status).toBe(0);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(sb.run(['decrypt', '--extract', paths[kind], file]).stdout).toBe('swordfish');
  });

  it('unset removes exactly that key', () => {
    const { file } = committed(kind);
    expect(sb.run(['unset', file, tokenPaths[kind]]).status).toBe(0);
    const lines = changedLines(file);
    expect(lines.filter((l) => l.startsWith('+'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('-')).some((l) => /api_token/i.test(l))).toBe(true);
    expect(sb.run(['unset', file, tokenPaths[kind]]).status).toBe(1);
    expect(sb.run(['unset', '--idempotent', file, tokenPaths[kind]]).status).toBe(0);
  });

  it('encrypt --reuse-data-key --output over the existing file keeps the data key and every unchanged ciphertext', () => {
    const { file, plain } = committed(kind);
    writeFileSync(plain, samples[kind].changed(readFileSync(plain, 'utf8')));
    expect(sb.run(['encrypt', '--reuse-data-key', '--age', sb.recipient, '--output', file, plain]).status).toBe(0);
    const lines = changedLines(file);
    expect(lines).toHaveLength(2);
    expect(sb.run(['decrypt', file]).stdout).toContain('swordfish');
  });

  it('encrypt --output over the existing file makes a fresh data key by default', () => {
    const { file, plain } = committed(kind);
    expect(sb.run(['encrypt', '--age', sb.recipient, '--output', file, plain]).status).toBe(0);
    expect(changedLines(file).length).toBeGreaterThan(2);
    expect(sb.run(['decrypt', file]).stdout).toContain('hunter2');
  });
});

describe('set errors', () => {
  it('bad paths and bad JSON are exit 7, and no value appears in the message', () => {
    const { file } = committed('yaml');
    expect(sb.run(['set', file, 'db.password', '"x"']).status).toBe(7);
    const bad = sb.run(['set', file, '["db"]', '{secret-value']);
    expect(bad.status).toBe(7);
    expect(bad.stderr).not.toContain('secret-value');
    expect(sb.run(['--set', '["db"]["password"] "legacy"', file]).status).toBe(0);
    expect(sb.run(['decrypt', '--extract', '["db"]["password"]', file]).stdout).toBe('legacy');
  });

  it('failures name the file: a missing key, a file the key cannot open (set, unset, rotate)', () => {
    const { file } = committed('yaml');
    const name = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const missing = sb.run(['unset', file, '["nope"]']);
    expect(missing.stderr).toMatch(new RegExp(`^tsops: ${name}: key not found`));
    const noKey = { SOPS_AGE_KEY_FILE: join(sb.dir, 'no-such-keys.txt') };
    for (const args of [['set', file, '["db"]["user"]', '"x"'], ['unset', file, '["db"]["user"]'], ['rotate', file]]) {
      const r = sb.run(args, { env: noKey });
      expect(r.status, args.join(' ')).toBe(128);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^tsops: ${name}: could not decrypt the data key`));
    }
  });

  it('--value-stdin and --value-file', () => {
    const { file } = committed('yaml');
    expect(sb.run(['set', '--value-stdin', file, '["db"]["port"]'], { input: '5432' }).status).toBe(0);
    writeFileSync(join(sb.dir, 'v.json'), '{"nested": [1, 2]}');
    expect(sb.run(['set', '--value-file', file, '["obj"]', join(sb.dir, 'v.json')]).status).toBe(0);
    const out = JSON.parse(sb.run(['decrypt', '--output-type', 'json', file]).stdout);
    expect(out.db.port).toBe(5432);
    expect(out.obj).toEqual({ nested: [1, 2] });
  });
});
