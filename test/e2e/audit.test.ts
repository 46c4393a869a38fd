import { lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_EDITOR, sandbox, type Sandbox } from '../support/cli.js';
import { AUDIT_ROLE, POSTGRES_BIN, startPostgres, type Postgres } from '../support/postgres.js';

const ACTIONS = ['encrypt', 'decrypt', 'edit', 'exec-env', 'exec-file', 'rotate', 'set', 'unset'];
const PLAIN = 'db_password: hunter2-not-real\napi_token: tok-123\n';

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

function auditEnv(name: string, config: string): NodeJS.ProcessEnv {
  const path = join(sb.dir, `${name}.audit.yaml`);
  writeFileSync(path, config);
  return { TSOPS_AUDIT_CONFIG: path };
}

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function ok(r: { status: number | null; stderr: string }): void {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

/** Every audited command, once each, on files in `dir`; returns the encrypted file's absolute path. */
function everyAction(dir: string, env: NodeJS.ProcessEnv): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'app.enc.yaml');
  // In place, so every event names the same file (encrypt records its input, as sops does).
  writeFileSync(file, PLAIN);
  ok(sb.run(['encrypt', '-i', '--age', sb.recipient, file], { env }));
  ok(sb.run(['decrypt', file], { env }));
  const edit = sb.run(['edit', file], { env: { ...env, EDITOR: FAKE_EDITOR, FAKE_EDITOR_LOG: join(dir, 'editor.log'), FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'replace', from: 'tok-123', to: 'tok-456' }]) } });
  ok(edit);
  ok(sb.run(['exec-env', file, 'true'], { env }));
  ok(sb.run(['exec-file', file, 'cat {} >/dev/null'], { env }));
  ok(sb.run(['rotate', '-i', file], { env }));
  ok(sb.run(['set', file, '["added"]', '"x"'], { env }));
  ok(sb.run(['unset', file, '["added"]'], { env }));
  return file;
}

describe('audit log: JSON-lines file backend', () => {
  it('records encrypt, decrypt, edit, exec-env, exec-file, rotate, set and unset with user, host, file and master key, in a 0600 file', () => {
    const log = join(sb.dir, 'events.jsonl');
    const env = auditEnv('jsonl', `backends:\n  file:\n    - path: ${log}\n`);
    const file = everyAction(join(sb.dir, 'jsonl'), env);
    const events = lines(log);
    expect(events.map((e) => e['action'])).toEqual(ACTIONS);
    for (const e of events) {
      expect(e['file']).toBe(file);
      expect(e['user']).toBe(userInfo().username);
      expect(e['host']).toBe(hostname());
      expect(e['master_keys']).toEqual([sb.recipient]);
      expect(new Date(String(e['time'])).toISOString()).toBe(e['time']);
    }
    expect(statSync(log).mode & 0o777).toBe(0o600);
    // No value of the file, ever.
    expect(readFileSync(log, 'utf8')).not.toMatch(/hunter2|tok-/);
  });

  it('appends to an existing log and records standard input as `stdin`', () => {
    const log = join(sb.dir, 'stdin.jsonl');
    writeFileSync(log, '{"earlier":true}\n', { mode: 0o640 });
    const env = auditEnv('stdin', `backends:\n  file:\n    - path: ${log}\n`);
    const r = sb.run(['encrypt', '--age', sb.recipient, '--input-type', 'yaml', '--output-type', 'yaml'], { env, input: PLAIN });
    ok(r);
    const events = lines(log);
    expect(events[0]).toEqual({ earlier: true });
    expect(events[1]).toMatchObject({ action: 'encrypt', file: 'stdin' });
  });

  it('writes nothing without a config, and never reads one from the working tree', () => {
    const dir = join(sb.dir, 'planted');
    mkdirSync(join(dir, 'etc', 'sops'), { recursive: true });
    const log = join(dir, 'planted.jsonl');
    writeFileSync(join(dir, 'etc', 'sops', 'audit.yaml'), `backends:\n  file:\n    - path: ${log}\n`);
    writeFileSync(join(dir, 'audit.yaml'), `backends:\n  file:\n    - path: ${log}\n`);
    writeFileSync(join(dir, 'a.yaml'), PLAIN);
    ok(sb.run(['encrypt', '--age', sb.recipient, 'a.yaml'], { cwd: dir }));
    expect(() => statSync(log)).toThrow();
  });

  it('refuses a relative log path (it would land in the repository the command runs in): one warning line, nothing written', () => {
    const dir = join(sb.dir, 'relative');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), PLAIN);
    const r = sb.run(['encrypt', '--age', sb.recipient, 'a.yaml'], { cwd: dir, env: auditEnv('relative', 'backends:\n  file:\n    - path: events.jsonl\n') });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^tsops: warning: audit: .*backends\.file\[0\]\.path must be an absolute path; nothing recorded\n$/);
    expect(() => statSync(join(dir, 'events.jsonl'))).toThrow();
  });

  it('does not follow a link planted at the log path: one warning line, the command succeeds, the target is untouched', () => {
    const dir = join(sb.dir, 'linked');
    mkdirSync(dir);
    const target = join(dir, 'victim');
    writeFileSync(target, 'untouched\n');
    const log = join(dir, 'events.jsonl');
    symlinkSync(target, log);
    writeFileSync(join(dir, 'a.yaml'), PLAIN);
    const r = sb.run(['encrypt', '--age', sb.recipient, 'a.yaml'], { cwd: dir, env: auditEnv('linked', `backends:\n  file:\n    - path: ${log}\n`) });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ENC[');
    expect(r.stderr).toMatch(/^tsops: warning: audit: could not record to the audit log .*events\.jsonl: ELOOP\n$/);
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
    expect(lstatSync(log).isSymbolicLink()).toBe(true);
  });

  it('an unreadable config is one line that never quotes it (it may hold a password)', () => {
    writeFileSync(join(sb.dir, 'b.yaml'), PLAIN);
    const r = sb.run(['encrypt', '--age', sb.recipient, 'b.yaml'], { env: auditEnv('broken', 'backends:\n  postgres:\n    - connection_string: "postgres://u:S3cretPw@h/db\n  [\n') });
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/audit: .*broken\.audit\.yaml is not valid YAML/);
    expect(r.stderr).not.toContain('S3cretPw');
  });
});

describe('audit log: an unreachable database', () => {
  let closed: Server;
  let port: number;
  beforeAll(async () => {
    // A port that refuses: a listener bound and closed again is still ours to know is free of servers.
    closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });

  it('is reported on one line without the password, and the command still succeeds; a recursive run reports it once', () => {
    const dir = join(sb.dir, 'down');
    mkdirSync(dir);
    for (const n of ['a', 'b', 'c']) {
      writeFileSync(join(dir, `${n}.yaml`), PLAIN);
      ok(sb.run(['encrypt', '-i', '--age', sb.recipient, `${n}.yaml`], { cwd: dir }));
    }
    const env = auditEnv('down', `backends:\n  postgres:\n    - connection_string: "postgres://sops:Pw-Never-Shown@127.0.0.1:${port}/audit"\n`);
    const r = sb.run(['decrypt', 'a.yaml'], { cwd: dir, env });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('hunter2-not-real');
    expect(r.stderr).toBe(`tsops: warning: audit: could not record to the audit database (postgres sops@127.0.0.1:${port}/audit): connect ECONNREFUSED 127.0.0.1:${port}\n`);
    const rec = sb.run(['rotate', '-r', '.'], { cwd: dir, env });
    expect(rec.status).toBe(0);
    // Progress lines name each rotated file; the database failure is said once.
    expect(rec.stderr.split('\n').filter((l) => l.includes('audit'))).toHaveLength(1);
    expect(rec.stderr + rec.stdout).not.toContain('Pw-Never-Shown');
    expect(rec.stdout).toContain('rotate: 3 rotated, 0 failed');
  });
});

describe.skipIf(!POSTGRES_BIN)('audit log: PostgreSQL (sops\'s audit_event table, a real server)', () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(() => pg?.stop());
  beforeEach(() => {});

  it('inserts one row per event: action, login name, absolute file, for every audited command', async () => {
    const log = join(sb.dir, 'both.jsonl');
    const env = auditEnv('pg', `backends:\n  postgres:\n    - connection_string: "${pg.auditUrl}"\n  file:\n    - path: ${log}\n`);
    const file = everyAction(join(sb.dir, 'pg'), env);
    const rows = await pg.rows();
    expect(rows.map((r) => [r.action, r.username, r.file])).toEqual(
      ACTIONS.map((action) => [action, userInfo().username, file]),
    );
    expect(rows.every((r) => r.timestamp instanceof Date)).toBe(true);
    // Both backends get every event.
    expect(lines(log)).toHaveLength(ACTIONS.length);
  });

  it('a wrong password is one line naming the server, never the password tried, and the command succeeds', async () => {
    const before = (await pg.rows()).length;
    writeFileSync(join(sb.dir, 'c.yaml'), PLAIN);
    const wrong = `postgres://${AUDIT_ROLE.user}:Wrong-Pw-xyz@127.0.0.1:${pg.port}/postgres`;
    const r = sb.run(['encrypt', '--age', sb.recipient, 'c.yaml'], { env: auditEnv('wrongpw', `backends:\n  postgres:\n    - connection_string: "${wrong}"\n`) });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^tsops: warning: audit: could not record to the audit database \\(postgres sops@127\\.0\\.0\\.1:${pg.port}/postgres\\): password authentication failed for user "sops"\\n$`));
    expect(r.stderr).not.toContain('Wrong-Pw-xyz');
    expect((await pg.rows()).length).toBe(before);
  });
});
