/**
 * `decrypt --output-type github-env` through the built CLI, read the way the
 * Actions runner reads its output: every line of every value exported to
 * $GITHUB_ENV is registered with `::add-mask::` on stdout first, the records
 * parse back to the values, and nothing else reaches stdout. Misconfigured
 * or planted settings are refused before anything is written.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execBox, uniqueSecret, type ExecBox } from '../exec/support.js';

const SECRET = uniqueSecret();
const VALUES: Record<string, string> = {
  TOKEN: SECRET,
  COMMANDS: `::warning::not a command::${uniqueSecret()}`,
  PERCENT: `100%0A%25 of ${uniqueSecret().slice(-6)}`,
  PEM: `-----BEGIN TEST KEY-----\nMIIB${uniqueSecret()}\n\n  indented ${uniqueSecret().slice(-6)}\r\nlast line\n`,
  STOP: `::stop-commands::${uniqueSecret().slice(-8)}`,
  EMPTY_LOOKING: 'TSOPS_EOF_ lookalike\nTSOPS_EOF_',
};

let box: ExecBox;
let file: string;

beforeAll(async () => {
  box = await execBox();
  file = box.encrypt('ci.enc.json', JSON.stringify(VALUES));
  box.encrypt('nested.enc.yaml', `db:\n    password: ${SECRET}\n`);
  box.encrypt('bad-name.enc.json', JSON.stringify({ 'not-a-name': SECRET }));
  box.encrypt('protected.enc.json', JSON.stringify({ NODE_OPTIONS: '--require /tmp/x.js' }));
  box.encrypt('github.enc.json', JSON.stringify({ GITHUB_TOKEN: SECRET }));
  // Each runs a program of the planter's in a later step that uses git, npm or Python.
  box.encrypt('git-diff.enc.json', JSON.stringify({ GIT_EXTERNAL_DIFF: '/tmp/x.sh' }));
  box.encrypt('npm-shell.enc.json', JSON.stringify({ npm_config_script_shell: '/tmp/x.sh' }));
  box.encrypt('python-warnings.enc.json', JSON.stringify({ PYTHONWARNINGS: 'ignore::x.y' }));
  // Sends a later step's traffic through the planter's proxy.
  box.encrypt('proxy.enc.json', JSON.stringify({ HTTPS_PROXY: 'http://127.0.0.1:9' }));
});
afterAll(() => box.cleanup());

function freshEnvFile(name: string): string {
  const path = join(box.dir, name);
  writeFileSync(path, 'EXISTING=kept\n');
  return path;
}

/** The runner's reading of GITHUB_ENV: `NAME=value` lines and `NAME<<DELIM` blocks. */
function parseEnvFile(text: string): { vars: Map<string, string>; valueLines: string[] } {
  const vars = new Map<string, string>();
  const valueLines: string[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const body: string[] = [];
      for (i++; lines[i] !== heredoc[2]; i++) {
        if (i >= lines.length) throw new Error(`unterminated ${heredoc[1]}`);
        body.push(lines[i]!);
      }
      valueLines.push(...body);
      vars.set(heredoc[1]!, body.join('\n'));
    } else {
      const eq = line.indexOf('=');
      vars.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  return { vars, valueLines };
}

/** What the runner masks after reading stdout: each command's data, unescaped. */
function maskedBy(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      expect(line.startsWith('::add-mask::')).toBe(true);
      return line.slice('::add-mask::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
    });
}

describe('decrypt --output-type github-env', () => {
  it('masks every line of every value on stdout, then appends records that read back as the values', () => {
    const envFile = freshEnvFile('github_env');
    const r = box.tsops(['decrypt', '--output-type', 'github-env', file], { env: { GITHUB_ENV: envFile } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const masks = maskedBy(r.stdout);
    const { vars, valueLines } = parseEnvFile(readFileSync(envFile, 'utf8'));
    expect(vars.get('EXISTING')).toBe('kept');
    for (const [name, value] of Object.entries(VALUES)) expect(vars.get(name)).toBe(value);
    // Each line the file holds for a value was masked (a CR is a line break to the masker too).
    for (const line of valueLines.flatMap((l) => l.split('\r'))) {
      if (line.trim() === '') continue;
      expect(masks).toContain(line);
    }
    // The runner reads one command per line: none of the values' lines reaches stdout outside its mask command.
    expect(r.stdout.split('\n').every((l) => l === '' || l.startsWith('::add-mask::'))).toBe(true);
    // A value holding `::` stays the data of its mask command (the runner takes the command name up to the first `::`).
    expect(r.stdout.split('\n')).toContain(`::add-mask::${VALUES['STOP']}`);
  });

  it('is recorded in the audit log as a decrypt', () => {
    const log = join(box.dir, 'events.jsonl');
    const config = join(box.dir, 'audit.yaml');
    writeFileSync(config, `backends:\n  file:\n    - path: ${log}\n`);
    const r = box.tsops(['decrypt', '--output-type', 'github-env', file], { env: { GITHUB_ENV: freshEnvFile('env_audit'), TSOPS_AUDIT_CONFIG: config } });
    expect(r.status).toBe(0);
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; file: string });
    expect(events).toEqual([expect.objectContaining({ action: 'decrypt', file })]);
  });

  it('the delimiter is fresh each run and is no line of any value', () => {
    const a = freshEnvFile('env_a');
    const b = freshEnvFile('env_b');
    box.tsops(['decrypt', '--output-type', 'github-env', file], { env: { GITHUB_ENV: a } });
    box.tsops(['decrypt', '--output-type', 'github-env', file], { env: { GITHUB_ENV: b } });
    const delimiter = (path: string): string => /<<(.+)\n/.exec(readFileSync(path, 'utf8'))![1]!;
    expect(delimiter(a)).not.toBe(delimiter(b));
    for (const value of Object.values(VALUES)) expect(value.split('\n')).not.toContain(delimiter(a));
  });

  it('--flatten exports nested values', () => {
    const envFile = freshEnvFile('env_flat');
    const r = box.tsops(['decrypt', '--output-type', 'github-env', '--flatten', 'nested.enc.yaml'], { env: { GITHUB_ENV: envFile } });
    expect(r.status).toBe(0);
    expect(maskedBy(r.stdout)).toEqual([SECRET]);
    expect(parseEnvFile(readFileSync(envFile, 'utf8')).vars.get('db_password')).toBe(SECRET);
  });

  const refusals: Array<[string, () => { env: NodeJS.ProcessEnv; file?: string }, RegExp]> = [
    ['GITHUB_ENV unset', () => ({ env: {} }), /GITHUB_ENV is not set/],
    ['a relative path', () => ({ env: { GITHUB_ENV: 'github_env' } }), /not an absolute path/],
    ['a missing file', () => ({ env: { GITHUB_ENV: join(box.dir, 'nope') } }), /does not exist/],
    ['a symlink', () => {
      const link = join(box.dir, 'link_env');
      try {
        lstatSync(link);
      } catch {
        symlinkSync(freshEnvFile('target_env'), link);
      }
      return { env: { GITHUB_ENV: link } };
    }, /not a regular file/],
    ['a directory', () => {
      mkdirSync(join(box.dir, 'dir_env'), { recursive: true });
      return { env: { GITHUB_ENV: join(box.dir, 'dir_env') } };
    }, /not a regular file/],
    ['a FIFO', () => {
      const fifo = join(box.dir, 'fifo_env');
      try {
        lstatSync(fifo);
      } catch {
        execFileSync('mkfifo', [fifo]);
      }
      return { env: { GITHUB_ENV: fifo } };
    }, /not a regular file/],
    ['a key that is no variable name', () => ({ env: { GITHUB_ENV: freshEnvFile('e1') }, file: 'bad-name.enc.json' }), /not a valid environment variable name/],
    ['NODE_OPTIONS', () => ({ env: { GITHUB_ENV: freshEnvFile('e2') }, file: 'protected.enc.json' }), /NODE_OPTIONS would change how later steps run/],
    ['a GITHUB_ variable', () => ({ env: { GITHUB_ENV: freshEnvFile('e3') }, file: 'github.enc.json' }), /GITHUB_TOKEN would change how later steps run/],
    ['GIT_EXTERNAL_DIFF', () => ({ env: { GITHUB_ENV: freshEnvFile('e6') }, file: 'git-diff.enc.json' }), /GIT_EXTERNAL_DIFF would change how later steps run/],
    ['an npm setting in lower case', () => ({ env: { GITHUB_ENV: freshEnvFile('e7') }, file: 'npm-shell.enc.json' }), /npm_config_script_shell would change how later steps run/],
    ['PYTHONWARNINGS', () => ({ env: { GITHUB_ENV: freshEnvFile('e8') }, file: 'python-warnings.enc.json' }), /PYTHONWARNINGS would change how later steps run/],
    ['a proxy', () => ({ env: { GITHUB_ENV: freshEnvFile('e9') }, file: 'proxy.enc.json' }), /HTTPS_PROXY would change how later steps run/],
  ];
  it.each(refusals)('refuses %s: one line, nothing on stdout, nothing appended', (_what, setup, message) => {
    const { env, file: which } = setup();
    const r = box.tsops(['decrypt', '--output-type', 'github-env', which ?? file], { env });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^tsops: [^\n]+\n$/);
    expect(r.stderr).not.toContain(SECRET);
    expect(r.stdout).toBe('');
    const target = env['GITHUB_ENV'];
    if (target && /\/e\d$/.test(target)) expect(readFileSync(target, 'utf8')).toBe('EXISTING=kept\n');
  });

  it('needs a file and no other destination', () => {
    expect(box.tsops(['decrypt', '--output-type', 'github-env'], { env: { GITHUB_ENV: freshEnvFile('e4') }, input: '' }).stderr).toMatch(/needs a file/);
    expect(box.tsops(['decrypt', '--output-type', 'github-env', '--output', 'x', file], { env: { GITHUB_ENV: freshEnvFile('e5') } }).stderr).toMatch(/no --in-place, --output or --extract/);
  });
});
