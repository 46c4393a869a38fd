import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sandbox, spawnTsops, type Sandbox } from '../support/cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';

const EDITOR = `${process.execPath} ${join(ROOT, 'test/support/fake-editor.mjs')}`;
let sb: Sandbox;
let n = 0;

beforeAll(async () => {
  sb = await sandbox();
  execFileSync('git', ['init', '-q'], { cwd: sb.dir });
  execFileSync('git', ['config', 'user.email', 't@example.com'], { cwd: sb.dir });
  execFileSync('git', ['config', 'user.name', 'T'], { cwd: sb.dir });
});
afterAll(() => sb.cleanup());

const samples = {
  yaml: { name: 'secrets.enc.yaml', text: '# database\ndb:\n  user: admin\n  password: hunter2\napi_token: tok-123\n', from: 'hunter2', to: 'swordfish' },
  json: { name: 'secrets.enc.json', text: '{\n  "db": {\n    "user": "admin",\n    "password": "hunter2"\n  },\n  "api_token": "tok-123"\n}\n', from: 'hunter2', to: 'swordfish' },
  dotenv: { name: 'secrets.enc.env', text: '# database\nDB_USER=admin\nDB_PASSWORD=hunter2\nAPI_TOKEN=tok-123\n', from: 'hunter2', to: 'swordfish' },
} as const;

function editEnv(actions: unknown[]) {
  const log = join(sb.dir, `editor-${++n}.log`);
  return { log, env: { EDITOR, FAKE_EDITOR_LOG: log, FAKE_EDITOR_ACTIONS: JSON.stringify(actions) } };
}

function readLog(log: string): { path: string; mode: number; dirMode: number; action: string }[] {
  return readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

function encryptSample(kind: keyof typeof samples): string {
  const s = samples[kind];
  const plain = join(sb.dir, `plain-${kind}-${++n}${s.name.slice(s.name.lastIndexOf('.'))}`);
  writeFileSync(plain, s.text);
  const target = join(sb.dir, `${kind}-${n}-${s.name}`);
  const r = sb.run(['encrypt', '--age', sb.recipient, '--output', target, plain]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  execFileSync('git', ['add', target], { cwd: sb.dir });
  execFileSync('git', ['commit', '-qm', 'add'], { cwd: sb.dir });
  return target;
}

describe.each(Object.keys(samples) as (keyof typeof samples)[])('edit %s', (kind) => {
  it('leaves the file byte-identical when nothing changed, with a 0600 temp file in a 0700 dir that is gone after', () => {
    const target = encryptSample(kind);
    const before = readFileSync(target);
    const { log, env } = editEnv([{ type: 'none' }]);
    const r = sb.run(['edit', target], { env });
    expect(r.status).toBe(200);
    expect(r.stderr).toMatch(/has not changed/);
    expect(readFileSync(target).equals(before)).toBe(true);
    const [seen] = readLog(log);
    expect(seen!.mode).toBe(0o600);
    expect(seen!.dirMode).toBe(0o700);
    expect(existsSync(seen!.path)).toBe(false);
  });

  it('changes exactly the edited value plus lastmodified, the MAC and the structure binding', () => {
    const target = encryptSample(kind);
    const s = samples[kind];
    const { env } = editEnv([{ type: 'replace', from: s.from, to: s.to }]);
    const r = sb.run(['edit', target], { env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The value's line, the MAC, the structure binding, and lastmodified unless the edit fell in the same second.
    const diff = execFileSync('git', ['diff', '-U0', '--', target], { cwd: sb.dir, encoding: 'utf8' });
    const changed = diff.split('\n').filter((l) => /^[-+][^-+]/.test(l));
    expect(changed.filter((l) => /password/i.test(l))).toHaveLength(2);
    expect(changed.filter((l) => !/password|mac|lastmodified|tsops_structure/i.test(l))).toEqual([]);
    expect(changed.length).toBeGreaterThanOrEqual(6);
    expect(changed.length).toBeLessThanOrEqual(8);
    const dec = sb.run(['decrypt', target]);
    expect(dec.stdout).toContain(s.to);
    expect(dec.stdout).not.toContain(s.from);
  });
});

describe('edit failure paths', () => {
  it('re-opens the editor on invalid syntax, keeping the text, until it parses', () => {
    const target = encryptSample('yaml');
    const { log, env } = editEnv([{ type: 'append', text: 'broken: [unclosed\n' }, { type: 'replace', from: 'broken: [unclosed', to: 'fixed: ok' }]);
    const r = sb.run(['edit', target], { env, input: '\n' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/re-open|Enter/i);
    expect(readLog(log)).toHaveLength(2);
    expect(sb.run(['decrypt', target]).stdout).toContain('fixed: ok');
  });

  it('abandons an invalid edit when the user declines (end of input), leaving the file as it was', () => {
    const target = encryptSample('yaml');
    const before = readFileSync(target);
    const { log, env } = editEnv([{ type: 'append', text: 'broken: [unclosed\n' }]);
    const r = sb.run(['edit', target], { env, input: '' });
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^tsops: /);
    expect(readFileSync(target).equals(before)).toBe(true);
    expect(existsSync(readLog(log)[0]!.path)).toBe(false);
  });

  it('an editor that crashes changes nothing and leaves no temp file', () => {
    const target = encryptSample('yaml');
    const before = readFileSync(target);
    const { log, env } = editEnv([{ type: 'crash', code: 3 }]);
    const r = sb.run(['edit', target], { env });
    expect(r.status).not.toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(target).equals(before)).toBe(true);
    expect(existsSync(readLog(log)[0]!.path)).toBe(false);
  });

  it('does not clobber a file changed on disk during the edit; the edit is kept encrypted beside it', () => {
    const target = encryptSample('yaml');
    const { env } = editEnv([{ type: 'touch-target', target, from: 'hunter2', to: 'mine' }]);
    const r = sb.run(['edit', target], { env });
    expect(r.status).toBe(1);
    const saved = /saved, encrypted, to (\S+)/.exec(r.stderr)?.[1];
    expect(saved).toBeDefined();
    expect(readFileSync(saved!, 'utf8')).not.toMatch(/password: mine/);
    expect(sb.run(['decrypt', saved!]).stdout).toContain('password: mine');
  });

  it('creates a new file from a template with the keys given', () => {
    const target = join(sb.dir, `new-${++n}.enc.yaml`);
    const { env } = editEnv([{ type: 'replace', from: 'change-me', to: 'brand-new' }]);
    const r = sb.run(['edit', '--age', sb.recipient, target], { env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(target, 'utf8')).not.toContain('brand-new');
    expect(sb.run(['decrypt', target]).stdout).toContain('brand-new');
  });

  it('removes the temp file when tsops is terminated while the editor is open', async () => {
    const target = encryptSample('yaml');
    const { log, env } = editEnv([{ type: 'hang' }]);
    const child = spawnTsops(['edit', target], { ...sb.env, ...env }, sb.dir);
    // The editor's log line is complete once it ends with a newline (the file exists a moment before that).
    while (!(existsSync(log) && readFileSync(log, 'utf8').endsWith('\n'))) await new Promise((r) => setTimeout(r, 20));
    const temp = readLog(log)[0]!.path;
    expect(existsSync(temp)).toBe(true);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
    child.kill('SIGTERM');
    const { signal } = await exited;
    expect(signal).toBe('SIGTERM');
    expect(existsSync(temp)).toBe(false);
  });

  it('bare `tsops FILE` means edit, as in sops', () => {
    const target = encryptSample('yaml');
    const { env } = editEnv([{ type: 'none' }]);
    expect(sb.run([target], { env }).status).toBe(200);
  });
});

describe('edit --show-master-keys: the sops metadata is shown, not editable', () => {
  it.each(Object.keys(samples) as (keyof typeof samples)[])('%s: a value edit with the metadata left as shown is saved', (kind) => {
    const target = encryptSample(kind);
    const s = samples[kind];
    const { env } = editEnv([{ type: 'replace', from: s.from, to: s.to }]);
    const r = sb.run(['edit', '--show-master-keys', target], { env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(sb.run(['decrypt', target]).stdout).toContain(s.to);
  });

  it('a changed sops block is refused in one line and the editor re-opens; once it is put back, the value edit is saved', async () => {
    const other = (await throwawayAgeKey()).recipient;
    const target = encryptSample('yaml');
    const { log, env } = editEnv([
      { type: 'replace-each', pairs: [['hunter2', 'swordfish'], [sb.recipient, other]] },
      { type: 'replace-each', pairs: [[other, sb.recipient]] },
    ]);
    const r = sb.run(['edit', '--show-master-keys', target], { env, input: '\n' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^tsops: the 'sops' metadata was changed, which edit cannot apply: put it back as it was/m);
    expect(readLog(log)).toHaveLength(2);
    expect(sb.run(['decrypt', target]).stdout).toContain('swordfish');
    const text = readFileSync(target, 'utf8');
    expect(text).toContain(sb.recipient);
    expect(text).not.toContain(other);
  });

  it('declining to re-open leaves the file as it was, with a one-line error', async () => {
    const other = (await throwawayAgeKey()).recipient;
    const target = encryptSample('yaml');
    const before = readFileSync(target);
    const { log, env } = editEnv([{ type: 'replace-each', pairs: [['hunter2', 'swordfish'], [sb.recipient, other]] }]);
    const r = sb.run(['edit', '--show-master-keys', target], { env, input: '' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^tsops: edit abandoned: the 'sops' metadata was changed/);
    expect(r.stderr).not.toContain('swordfish');
    expect(readFileSync(target).equals(before)).toBe(true);
    expect(existsSync(readLog(log)[0]!.path)).toBe(false);
  });
});

it('edits a file named like the private dir\'s owner record', () => {
  const plain = join(sb.dir, `plain-owner-${++n}.yaml`);
  writeFileSync(plain, 'password: hunter2\n');
  const dir = join(sb.dir, `owner-name-${n}`);
  mkdirSync(dir);
  const target = join(dir, '.tsops-owner');
  expect(sb.run(['encrypt', '--age', sb.recipient, '--input-type', 'yaml', '--output-type', 'yaml', '--output', target, plain]).status).toBe(0);
  const { env } = editEnv([{ type: 'replace', from: 'hunter2', to: 'swordfish' }]);
  const r = sb.run(['edit', '--input-type', 'yaml', '--output-type', 'yaml', target], { env });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(sb.run(['decrypt', '--input-type', 'yaml', '--output-type', 'yaml', target]).stdout).toBe('password: swordfish\n');
});
