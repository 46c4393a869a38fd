/**
 * exec-env (and its alias run) through the built CLI with real child
 * processes: the environment the command sees, exit statuses and signals
 * passed through, stdin, no orphan, no zombie, and nothing on disk.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ended, execBox, filesContaining, processExists, scanRoots, uniqueSecret, waitForLine, type ExecBox } from '../exec/support.js';

const SECRET = uniqueSecret();
let box: ExecBox;
let envFile: string;
let yamlFile: string;
let nestedFile: string;

beforeAll(async () => {
  box = await execBox();
  envFile = box.encrypt('app.enc.env', `# comment\nPASSWORD=${SECRET}\nMULTI="line one\\nline two"\nSHARED=from-file\nEMPTY=\n`);
  yamlFile = box.encrypt('values.enc.yaml', `port: 5432\nratio: 1.5\nwhole: 5.0\nhuge: 1e21\nenabled: true\nwhen: 2024-01-02T03:04:05Z\nnothing: null\nname: plain\n`);
  box.encrypt('base.enc.env', 'A=base\nB=base\n');
  box.encrypt('prod.enc.env', 'B=prod\nC=prod\n');
  nestedFile = box.encrypt('nested.enc.yaml', `db:\n    user: admin\n    password: ${SECRET}\nhosts:\n    - a\n    - b\n`);
});
afterAll(() => box.cleanup());

const PRINT_ENV = ['--', process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'];
function envOf(args: string[], env?: NodeJS.ProcessEnv): Record<string, string> {
  const r = box.tsops(['exec-env', ...args, ...PRINT_ENV], env ? { env } : {});
  if (r.status !== 0) throw new Error(`exec-env failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

/** The failure contract: the code, one `tsops:` line, no stack, no secret. */
function expectFailure(r: { status: number | null; stderr: string; stdout: string }, code: number, message: RegExp): void {
  expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: code, stderr: expect.stringMatching(message) });
  expect(r.stderr).toMatch(/^tsops: [^\n]+\n$/);
  expect(r.stderr).not.toContain(SECRET);
  expect(r.stdout).not.toContain(SECRET);
}

describe('the environment the command sees', () => {
  it('holds the secrets raw (real newlines) over the inherited variables', () => {
    const env = envOf(['app.enc.env'], { SHARED: 'inherited', INHERITED: 'yes' });
    expect(env['PASSWORD']).toBe(SECRET);
    expect(env['MULTI']).toBe('line one\nline two');
    expect(env['EMPTY']).toBe('');
    expect(env['SHARED']).toBe('from-file');
    expect(env['INHERITED']).toBe('yes');
    expect(env['SOPS_AGE_KEY_FILE']).toBeUndefined();
  });

  it('the shell form runs the string with /bin/sh -c', () => {
    const r = box.tsops(['exec-env', 'app.enc.env', 'printf "%s|%s" "$PASSWORD" "$0"']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${SECRET}|/bin/sh`);
  });

  it('flags after a command string apply to it, and it stays a shell command', () => {
    const r = box.tsops(['exec-env', 'app.enc.env', 'printf "%s|%s" "$SHARED" "${INHERITED-none}"', '--pristine'], { env: { INHERITED: 'yes' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('from-file|none');
  });

  it('--same-process is accepted: the command runs as a child, tsops exits with its status and says so', () => {
    const r = box.tsops(['exec-env', '--same-process', 'app.enc.env', 'exit 7']);
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(/^tsops: warning: --same-process: Node cannot replace its own process, on any platform \(Windows included\)[^\n]*\n$/);
  });

  it('--pristine: only the secrets', () => {
    const env = envOf(['--pristine', 'app.enc.env'], { INHERITED: 'yes' });
    expect(Object.keys(env).sort()).toEqual(['EMPTY', 'MULTI', 'PASSWORD', 'SHARED']);
  });

  it('--no-override: inherited variables win', () => {
    const env = envOf(['--no-override', 'app.enc.env'], { SHARED: 'inherited' });
    expect(env['SHARED']).toBe('inherited');
    expect(env['PASSWORD']).toBe(SECRET);
  });

  it('non-string values as sops writes them', () => {
    const env = envOf(['--pristine', 'values.enc.yaml']);
    expect(env).toEqual({ port: '5432', ratio: '1.5', whole: '5.0', huge: '1E+21', enabled: 'true', when: '2024-01-02T03:04:05Z', nothing: '', name: 'plain' });
  });

  it('-f files in order, the later one winning', () => {
    expect(envOf(['--pristine', '-f', 'base.enc.env', '-f', 'prod.enc.env'])).toEqual({ A: 'base', B: 'prod', C: 'prod' });
    expect(envOf(['--pristine', '-f', 'prod.enc.env', '--file', 'base.enc.env'])).toEqual({ A: 'base', B: 'base', C: 'prod' });
  });

  it('nested values are exit 1 naming the key; --flatten turns them into path variables', () => {
    expectFailure(box.tsops(['exec-env', nestedFile, 'true']), 1, /key "db" holds a map/);
    expect(envOf(['--pristine', '--flatten', nestedFile])).toEqual({ db_user: 'admin', db_password: SECRET, hosts_0: 'a', hosts_1: 'b' });
  });

  it('`run` is the same command', () => {
    const r = box.tsops(['run', 'app.enc.env', 'printf %s "$PASSWORD"']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(SECRET);
  });

  it('--user runs the command as that account with its HOME, USER and LOGNAME', () => {
    if (process.getuid?.() !== 0) {
      expectFailure(box.tsops(['exec-env', '--user', 'nobody', 'app.enc.env', 'true']), 1, /needs tsops to run as root/);
      return;
    }
    const r = box.tsops(['exec-env', '--user', 'nobody', 'app.enc.env', 'printf "%s %s %s %s" "$(id -u)" "$USER" "$LOGNAME" "$PASSWORD"']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`65534 nobody nobody ${SECRET}`);
    expectFailure(box.tsops(['exec-env', '--user', 'no-such-user-xyz', 'app.enc.env', 'true']), 1, /no such user/);
  });
});

describe('exit statuses and signals', () => {
  it.each([0, 1, 42])('the command exiting %i makes tsops exit %i', (code) => {
    const r = box.tsops(['exec-env', 'app.enc.env', `exit ${code}`]);
    expect(r.status).toBe(code);
    expect(r.stderr).toBe('');
  });

  it('a command killed by SIGKILL kills tsops by SIGKILL', () => {
    const r = box.tsops(['exec-env', 'app.enc.env', 'kill -KILL $$']);
    expect(r.status).toBeNull();
    expect(r.signal).toBe('SIGKILL');
  });

  it('a command killed by SIGPIPE kills tsops by SIGPIPE (which Node normally ignores)', () => {
    const r = box.tsops(['exec-env', 'app.enc.env', 'kill -PIPE $$']);
    expect(r.signal).toBe('SIGPIPE');
  });

  it('a missing command is 127 with one line', () => {
    expectFailure(box.tsops(['exec-env', 'app.enc.env', '--', 'no-such-command-xyz']), 127, /no-such-command-xyz: command not found/);
  });

  it('SIGTERM is forwarded to a command that traps it; its exit code 3 becomes ours; nothing is left running', async () => {
    const child = box.start(['exec-env', 'app.enc.env', "trap 'exit 3' TERM; echo $$; while :; do sleep 0.05; done"]);
    const done = ended(child);
    const pid = Number(await waitForLine(child.stdout));
    child.kill('SIGTERM');
    const result = await done;
    expect(result).toMatchObject({ code: 3, signal: null, stderr: '' });
    expect(processExists(pid)).toBe(false);
  });

  it('a long-running command gets SIGINT; it dies of it and so does tsops; no orphan, no zombie', async () => {
    const child = box.start(['exec-env', 'app.enc.env', 'echo $$; exec sleep 60']);
    const done = ended(child);
    const pid = Number(await waitForLine(child.stdout));
    expect(processExists(pid)).toBe(true);
    child.kill('SIGINT');
    const result = await done;
    expect(result.signal).toBe('SIGINT');
    expect(processExists(pid)).toBe(false);
  });

  it.each(['SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const)('%s is forwarded too', async (signal) => {
    const name = signal.slice(3);
    const child = box.start(['exec-env', 'app.enc.env', `trap 'exit 7' ${name}; echo ready; while :; do sleep 0.05; done`]);
    const done = ended(child);
    await waitForLine(child.stdout, (l) => l === 'ready');
    child.kill(signal);
    expect(await done).toMatchObject({ code: 7, signal: null });
  });

  it('stdin is passed through to the command', () => {
    const r = box.tsops(['exec-env', 'app.enc.env', '--', 'cat'], { input: 'piped in\nsecond line\n' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('piped in\nsecond line\n');
  });
});

describe('secrets stay off disk', () => {
  it('while the command runs, no regular file in the temp dirs or the working dir holds a secret', async () => {
    const child = box.start(['exec-env', 'app.enc.env', 'echo ready; read line']);
    const done = ended(child);
    await waitForLine(child.stdout, (l) => l === 'ready');
    const hits = filesContaining(SECRET, scanRoots([box.dir]));
    child.stdin.end('\n');
    expect((await done).code).toBe(0);
    expect(hits).toEqual([]);
    expect(readFileSync(envFile, 'utf8')).not.toContain(SECRET);
  });
});

describe('failures', () => {
  it('a missing file is exit 100', () => {
    expectFailure(box.tsops(['exec-env', 'missing.enc.env', 'true']), 100, /missing\.enc\.env/);
  });

  it('without the key it is exit 128, and the command does not run', () => {
    const r = box.tsops(['exec-env', 'app.enc.env', 'echo RAN'], { env: { SOPS_AGE_KEY_FILE: '/nonexistent' } });
    expect(r.stdout).not.toContain('RAN');
    expect(r.status).toBe(128);
    expect(r.stderr).not.toContain(SECRET);
  });

  it('a file changed outside tsops is exit 51; --ignore-mac runs anyway', () => {
    const text = readFileSync(yamlFile, 'utf8').split('\n').filter((l) => !l.startsWith('name:')).join('\n');
    writeFileSync(`${box.dir}/tampered.enc.yaml`, text);
    expectFailure(box.tsops(['exec-env', 'tampered.enc.yaml', 'echo RAN']), 51, /MAC/);
    const r = box.tsops(['exec-env', '--ignore-mac', 'tampered.enc.yaml', 'printf %s "$port"']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('5432');
  });

  it.each([
    [['app.enc.env'], 1, /no command given/],
    [[], 100, /no file given/],
    [['--bogus', 'app.enc.env', 'true'], 1, /unknown flag --bogus/],
    [['app.enc.env', '--pristine', 'env'], 1, /flags go before the file/],
    [['--decryption-order', 'age,age', 'app.enc.env', 'true'], 112, /repeated/],
  ])('usage error %j is exit %i', (args, code, message) => {
    expectFailure(box.tsops(['exec-env', ...(args as string[])]), code as number, message as RegExp);
  });

  it('--help prints usage and exits 0', () => {
    const r = box.tsops(['exec-env', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: tsops exec-env/);
  });
});
