import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_NAMES, findConfig } from '../../src/config/index.js';
import { asyncConfigErrorOf, tempTree } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tree(files: Record<string, string>): string {
  const t = tempTree(files);
  cleanups.push(t.cleanup);
  return t.root;
}

describe('findConfig', () => {
  it('finds the config in the target file\'s directory before the one in cwd', async () => {
    const root = tree({ 'repo/.sopsrc': '', 'elsewhere/.sopsrc': '' });
    const found = await findConfig({ target: join(root, 'repo/secrets.yaml'), cwd: join(root, 'elsewhere'), env: {} });
    expect(found).toBe(join(root, 'repo/.sopsrc'));
  });

  it('resolves a relative target against cwd', async () => {
    const root = tree({ 'repo/app/.sops.yaml': '', 'repo/.sopsrc': '' });
    const found = await findConfig({ target: 'app/x.yaml', cwd: join(root, 'repo'), env: {} });
    expect(found).toBe(join(root, 'repo/app/.sops.yaml'));
  });

  it('takes the nearest config walking up from the target', async () => {
    const root = tree({ '.git/HEAD': '', '.sopsrc': '', 'a/b/.sops.yaml': '' });
    expect(await findConfig({ target: join(root, 'a/b/c/d/x.env'), cwd: root, env: {} })).toBe(join(root, 'a/b/.sops.yaml'));
    expect(await findConfig({ target: join(root, 'a/x.env'), cwd: root, env: {} })).toBe(join(root, '.sopsrc'));
  });

  it('prefers .sopsrc over .sops.yaml over .sops.yml in one directory', async () => {
    const root = tree({ '.sopsrc': '', '.sops.yaml': '', '.sops.yml': '' });
    const find = () => findConfig({ target: join(root, 'f.yaml'), cwd: root, env: {} });
    expect(CONFIG_NAMES).toEqual(['.sopsrc', '.sops.yaml', '.sops.yml']);
    expect(await find()).toBe(join(root, '.sopsrc'));
    rmSync(join(root, '.sopsrc'));
    expect(await find()).toBe(join(root, '.sops.yaml'));
    rmSync(join(root, '.sops.yaml'));
    expect(await find()).toBe(join(root, '.sops.yml'));
  });

  it('skips a directory that happens to be called .sopsrc', async () => {
    const root = tree({ 'a/.sops.yaml': '' });
    mkdirSync(join(root, 'a/.sopsrc'));
    expect(await findConfig({ target: join(root, 'a/f.yaml'), cwd: root, env: {} })).toBe(join(root, 'a/.sops.yaml'));
  });

  it('falls back to walking up from cwd when nothing is above the target', async () => {
    const root = tree({ '.git/HEAD': '', 'work/.sopsrc': '', 'data/f.yaml': '' });
    const fromTarget = await findConfig({ target: join(root, 'data/f.yaml'), cwd: join(root, 'data'), env: {} });
    // Precondition: nothing above the temporary directory holds a config.
    expect(fromTarget).toBeUndefined();
    expect(await findConfig({ target: join(root, 'data/f.yaml'), cwd: join(root, 'work/sub'), env: {} })).toBe(join(root, 'work/.sopsrc'));
  });

  it('walks up from cwd when there is no target, or the target is stdin', async () => {
    const root = tree({ '.git/HEAD': '', '.sopsrc': '' });
    expect(await findConfig({ cwd: join(root, 'x/y'), env: {} })).toBe(join(root, '.sopsrc'));
    expect(await findConfig({ target: '-', cwd: join(root, 'x'), env: {} })).toBe(join(root, '.sopsrc'));
  });

  it('uses --config over SOPS_CONFIG over discovery, relative to cwd', async () => {
    const root = tree({ '.sopsrc': '', 'one.yaml': '', 'two.yaml': '' });
    const target = join(root, 'f.yaml');
    expect(await findConfig({ target, cwd: root, env: { SOPS_CONFIG: 'two.yaml' }, explicit: 'one.yaml' })).toBe(join(root, 'one.yaml'));
    expect(await findConfig({ target, cwd: root, env: { SOPS_CONFIG: 'two.yaml' } })).toBe(join(root, 'two.yaml'));
    expect(await findConfig({ target, cwd: root, env: { SOPS_CONFIG: '' } })).toBe(join(root, '.sopsrc'));
  });

  it('fails on a missing --config or SOPS_CONFIG file, naming it and where it came from', async () => {
    const root = tree({ '.sopsrc': '' });
    const explicit = await asyncConfigErrorOf(() => findConfig({ cwd: root, env: {}, explicit: 'nope.yaml' }));
    expect(explicit).toBe('config file nope.yaml (from --config) does not exist or is not a file');
    const fromEnv = await asyncConfigErrorOf(() => findConfig({ cwd: root, env: { SOPS_CONFIG: 'gone/.sops.yaml' } }));
    expect(fromEnv).toBe('config file gone/.sops.yaml (from SOPS_CONFIG) does not exist or is not a file');
    const directory = await asyncConfigErrorOf(() => findConfig({ cwd: root, env: {}, explicit: '.' }));
    expect(directory).toContain('is not a file');
  });
});
