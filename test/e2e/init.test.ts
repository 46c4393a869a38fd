/** tsops init: with flags for scripts, and answered at its prompts through a real terminal (tmux). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TSOPS, sandbox, type Sandbox } from '../support/cli.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

function gitRepo(name: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = join(sb.dir, name);
  mkdirSync(dir);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  const home = join(dir, 'home');
  return { dir, env: { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), SOPS_AGE_KEY_FILE: '' } };
}

describe('init', () => {
  it('with flags: key, .sopsrc, .gitignore, git integration; a second run changes nothing', () => {
    const { dir, env } = gitRepo('flags');
    const r = sb.run(['init', '--yes', '--path-regex', '^secrets/', '--ignore', '*.plain.yaml'], { cwd: dir, env });
    expect(r.status).toBe(0);
    const keys = readFileSync(join(dir, 'home', '.config', 'sops', 'age', 'keys.txt'), 'utf8');
    const recipient = /public key: (age1\S+)/.exec(keys)![1]!;
    expect(readFileSync(join(dir, '.sopsrc'), 'utf8')).toContain(recipient);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('*.plain.yaml');
    expect(readFileSync(join(dir, '.gitattributes'), 'utf8')).toContain('diff=tsops merge=tsops');
    const snapshot = ['.sopsrc', '.gitignore', '.gitattributes'].map((f) => readFileSync(join(dir, f), 'utf8'));
    const again = sb.run(['init', '--yes', '--path-regex', '^secrets/', '--ignore', '*.plain.yaml'], { cwd: dir, env });
    expect(again.stdout).toMatch(/nothing to do/);
    expect(['.sopsrc', '.gitignore', '.gitattributes'].map((f) => readFileSync(join(dir, f), 'utf8'))).toEqual(snapshot);
    mkdirSync(join(dir, 'secrets'));
    execFileSync('sh', ['-c', 'printf "k: v\\n" > secrets/a.yaml'], { cwd: dir });
    expect(sb.run(['encrypt', '-i', 'secrets/a.yaml'], { cwd: dir, env }).status).toBe(0);
    expect(sb.run(['decrypt', 'secrets/a.yaml'], { cwd: dir, env }).stdout).toBe('k: v\n');
  });

  it.skipIf(spawnSync('tmux', ['-V']).status !== 0)('interactively, answering the prompts in a terminal', async () => {
    const { dir, env } = gitRepo('tty');
    const session = `tsops-init-${process.pid}`;
    const envArgs = Object.entries({ ...env, PATH: process.env['PATH'] }).map(([k, v]) => `${k}=${v}`);
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '40', '-c', dir, 'env', ...envArgs, process.execPath, TSOPS, 'init']);
    const screen = (): string => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    const waitFor = async (text: RegExp): Promise<void> => {
      const deadline = Date.now() + 15_000;
      while (!text.test(screen())) {
        if (Date.now() > deadline) throw new Error(`prompt not shown: ${text}\n${screen()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await waitFor(/Create one/);
      execFileSync('tmux', ['send-keys', '-t', session, 'Enter']);
      await waitFor(/Which files hold secrets/);
      execFileSync('tmux', ['send-keys', '-t', session, 'Enter']);
      await waitFor(/Other age recipients/);
      execFileSync('tmux', ['send-keys', '-t', session, 'Enter']);
      await waitFor(/keep out of git/);
      execFileSync('tmux', ['send-keys', '-t', session, 'C-u', '*.secret.txt', 'Enter']);
      await waitFor(/Install the git integration/);
      execFileSync('tmux', ['send-keys', '-t', session, 'n', 'Enter']);
      // The session ends when init exits: everything it writes is written by then.
      while (spawnSync('tmux', ['has-session', '-t', session]).status === 0) await new Promise((r) => setTimeout(r, 50));
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
    expect(readFileSync(join(dir, '.sopsrc'), 'utf8')).toContain('path_regex');
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('*.secret.txt');
    expect(existsSync(join(dir, '.gitattributes'))).toBe(false);
  }, 60_000);
});

