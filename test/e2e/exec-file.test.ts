/**
 * exec-file through the built CLI: the command reads the decrypted text at a
 * private path that holds nothing on disk (FIFO) or only a 0600 file on tmpfs
 * (--no-fifo), and the private directory is gone on every way out.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ended, execBox, lineReader, filesContaining, processExists, scanRoots, uniqueSecret, waitForLine, type ExecBox } from '../exec/support.js';

const SECRET = uniqueSecret();
const YAML = `# settings\ndb:\n    user: admin\n    password: ${SECRET}\nport: 5432\n`;
let box: ExecBox;

beforeAll(async () => {
  box = await execBox();
  box.encrypt('app.enc.yaml', YAML);
});
afterAll(() => box.cleanup());

function expectFailure(r: { status: number | null; stderr: string; stdout: string }, code: number, message: RegExp): void {
  expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: code, stderr: expect.stringMatching(message) });
  expect(r.stderr).toMatch(/^tsops: [^\n]+\n$/);
  expect(r.stderr).not.toContain(SECRET);
  expect(r.stdout).not.toContain(SECRET);
}

describe('the command reads the decrypted file', () => {
  it('through a FIFO named tmp-file, in the file\'s own format, layout kept', () => {
    const r = box.tsops(['exec-file', 'app.enc.yaml', 'test -p {} && basename {} && cat {}']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`tmp-file\n${YAML}`);
  });

  it('in another --output-type, every {} replaced, argv form', () => {
    const r = box.tsops(['exec-file', '--output-type', 'json', 'app.enc.yaml', '--', process.execPath, '-e', 'const fs=require("fs");const [a,b]=process.argv.slice(1);process.stdout.write(String(a===b)+fs.readFileSync(a,"utf8"))', '{}', '{}']);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('true')).toBe(true);
    expect(JSON.parse(r.stdout.slice(4))).toEqual({ db: { user: 'admin', password: SECRET }, port: 5432 });
  });

  it('--filename names the path (subdirectories allowed), never outside the private dir', () => {
    const r = box.tsops(['exec-file', '--filename', 'conf/app.yaml', 'app.enc.yaml', 'echo {}; cat {} >/dev/null']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/\/conf\/app\.yaml$/);
    expect(existsSync(dirname(dirname(r.stdout.trim())))).toBe(false);
    expectFailure(box.tsops(['exec-file', '--filename', '../escape', 'app.enc.yaml', 'true']), 1, /--filename/);
  });

  it('a command that never opens the FIFO does not keep tsops waiting', () => {
    const started = Date.now();
    const r = box.tsops(['exec-file', 'app.enc.yaml', 'echo {}']);
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(dirname(r.stdout.trim()))).toBe(false);
  });

  it('--no-fifo: a regular 0600 file in a 0700 directory, removed after the command', () => {
    const r = box.tsops(['exec-file', '--no-fifo', 'app.enc.yaml', 'test -f {} && stat -c "%a %F" {} "$(dirname {})" && echo {} && cat {}']);
    expect(r.status).toBe(0);
    const [fileMode, dirMode, path, ...rest] = r.stdout.split('\n');
    expect(fileMode).toBe('600 regular file');
    expect(dirMode).toBe('700 directory');
    expect(rest.join('\n')).toBe(YAML);
    expect(existsSync(path!)).toBe(false);
    expect(existsSync(dirname(path!))).toBe(false);
  });
});

describe('--user', () => {
  it('the other account can read the path (directory handed over) and runs as itself', () => {
    if (process.getuid?.() !== 0) return;
    for (const flags of [[], ['--no-fifo']]) {
      const r = box.tsops(['exec-file', ...flags, '--user', 'nobody', 'app.enc.yaml', 'id -u; cat {}']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`65534\n${YAML}`);
    }
  });
});

describe('nothing on disk', () => {
  it('while the command runs (FIFO read), no regular file under the temp dirs or the working dir holds a secret', async () => {
    const child = box.start(['exec-file', 'app.enc.yaml', 'cat {} >/dev/null; echo {}; read line']);
    const done = ended(child);
    const path = await waitForLine(child.stdout);
    expect(existsSync(path)).toBe(true);
    const hits = filesContaining(SECRET, scanRoots([box.dir, dirname(path)]));
    child.stdin.end('\n');
    expect((await done).code).toBe(0);
    expect(hits).toEqual([]);
    expect(existsSync(dirname(path))).toBe(false);
  });

  it('the scan does find a --no-fifo file while it exists (the scan can fail)', async () => {
    const child = box.start(['exec-file', '--no-fifo', 'app.enc.yaml', 'echo {}; read line']);
    const done = ended(child);
    const path = await waitForLine(child.stdout);
    const hits = filesContaining(SECRET, scanRoots([box.dir, dirname(path)]));
    child.stdin.end('\n');
    expect((await done).code).toBe(0);
    expect(hits).toEqual([path]);
    expect(existsSync(dirname(path))).toBe(false);
  });
});

describe('exit statuses, signals and cleanup', () => {
  it('the command\'s exit code is ours', () => {
    expect(box.tsops(['exec-file', 'app.enc.yaml', 'exit 42']).status).toBe(42);
    expect(box.tsops(['exec-file', 'app.enc.yaml', 'cat {} >/dev/null; exit 1']).status).toBe(1);
  });

  it('SIGKILL of the command kills tsops by SIGKILL, after cleaning up', () => {
    const r = box.tsops(['exec-file', 'app.enc.yaml', 'echo {}; kill -KILL $$']);
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(dirname(r.stdout.trim()))).toBe(false);
  });

  it.each([
    ['SIGTERM', 'TERM'],
    ['SIGINT', 'INT'],
    ['SIGHUP', 'HUP'],
  ] as const)('%s is forwarded; the trapping command exits 3, so does tsops; the directory is gone', async (signal, name) => {
    const child = box.start(['exec-file', '--no-fifo', 'app.enc.yaml', `trap 'exit 3' ${name}; echo {}; echo $$; while :; do sleep 0.05; done`]);
    const done = ended(child);
    const lines = lineReader(child.stdout);
    const path = await lines.next();
    const pid = Number(await lines.next());
    expect(existsSync(path)).toBe(true);
    child.kill(signal);
    expect(await done).toMatchObject({ code: 3, signal: null, stderr: '' });
    expect(existsSync(dirname(path))).toBe(false);
    expect(processExists(pid)).toBe(false);
  });

  it('a command dying of the forwarded SIGTERM makes tsops die of SIGTERM, the directory gone first', async () => {
    const child = box.start(['exec-file', 'app.enc.yaml', 'echo {}; exec sleep 60']);
    const done = ended(child);
    const path = await waitForLine(child.stdout);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.signal).toBe('SIGTERM');
    expect(existsSync(dirname(path))).toBe(false);
  });
});

describe('failures', () => {
  it('without the key: exit 128 and the command does not run', () => {
    const r = box.tsops(['exec-file', 'app.enc.yaml', 'echo RAN'], { env: { SOPS_AGE_KEY_FILE: '/nonexistent' } });
    expect(r.status).toBe(128);
    expect(r.stdout).not.toContain('RAN');
  });

  it('a missing file is exit 100; an unknown output type exit 1', () => {
    expectFailure(box.tsops(['exec-file', 'missing.enc.yaml', 'true']), 100, /missing\.enc\.yaml/);
    expectFailure(box.tsops(['exec-file', '--output-type', 'toml', 'app.enc.yaml', 'true']), 1, /--output-type/);
  });

  it('nested values cannot become dotenv: exit 4 naming the file', () => {
    expectFailure(box.tsops(['exec-file', '--output-type', 'dotenv', 'app.enc.yaml', 'cat {}']), 4, /app\.enc\.yaml/);
  });
});
