/** Help as a user reads it: every command listed, each command's own usage both ways, one width. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../support/cli.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

function help(args: string[]): string {
  const r = sb.run(args);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('help', () => {
  it('tsops --help lists every command', () => {
    const out = help(['--help']);
    for (const command of ['encrypt', 'decrypt', 'edit', 'exec-env', 'exec-file', 'run', 'krm', 'scan', 'status', 'updatekeys', 'guard', 'init']) {
      expect(out).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it.each([['encrypt'], ['status'], ['exec-env'], ['exec-file'], ['run'], ['krm']])('help %s and %s --help print the same usage of that command', (command) => {
    const viaHelp = help(['help', command]);
    expect(viaHelp).toContain(`tsops ${command}`);
    expect(help([command, '--help'])).toBe(viaHelp);
  });

  it('run --help speaks of run', () => {
    expect(help(['run', '--help'])).toMatch(/^Usage: tsops run /);
  });

  it('a command lists only the options it reads', () => {
    expect(help(['encrypt', '--help'])).not.toContain('--ignore-mac');
    const status = help(['status', '--help']);
    for (const unused of ['--input-type', '--output-type', '--indent', '--ignore-mac']) expect(status).not.toContain(unused);
    expect(help(['decrypt', '--help'])).toContain('--ignore-mac');
  });

  it('wraps at 80 columns', () => {
    for (const args of [['--help'], ['help', 'encrypt'], ['help', 'guard'], ['run', '--help']]) {
      for (const line of help(args).split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    }
  });
});
