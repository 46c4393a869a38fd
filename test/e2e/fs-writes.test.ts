/**
 * Where in-place writes land: through symbolic links to the real file (its
 * owner, group and mode kept), never splitting hard links, and never losing an
 * edit to a directory that stopped being writable.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TSOPS, sandbox, type Sandbox } from '../support/cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';

const EDITOR = `${process.execPath} ${join(ROOT, 'test/support/fake-editor.mjs')}`;
const isRoot = process.getuid?.() === 0;
const OTHER = 12345;
let sb: Sandbox;
let n = 0;

beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

function ok(r: ReturnType<Sandbox['run']>): void {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tsops: /);
  return lines[0]!;
}

/** real/secrets-N.yaml, reached through link-N.yaml -> chain-N.yaml -> real/secrets-N.yaml (relative links). */
function linkedFile(text: string): { link: string; real: string } {
  const i = ++n;
  mkdirSync(join(sb.dir, 'real'), { recursive: true });
  const real = join(sb.dir, 'real', `secrets-${i}.yaml`);
  writeFileSync(real, text, { mode: 0o640 });
  chmodSync(real, 0o640);
  symlinkSync(`real/secrets-${i}.yaml`, join(sb.dir, `chain-${i}.yaml`));
  const link = join(sb.dir, `link-${i}.yaml`);
  symlinkSync(`chain-${i}.yaml`, link);
  return { link, real };
}

describe('writes through symbolic links', () => {
  it('every in-place command writes the real file at the end of the chain and keeps the links, owner, group and mode', async () => {
    if (!isRoot) console.log('skipped the owner/group check: not running as root');
    const second = await throwawayAgeKey();
    const { link, real } = linkedFile('db:\n  password: hunter2\nuser: admin\n');
    if (isRoot) chownSync(real, OTHER, OTHER);
    const chain = join(sb.dir, `chain-${n}.yaml`);
    const check = (): void => {
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(lstatSync(chain).isSymbolicLink()).toBe(true);
      const st = statSync(real);
      expect(st.mode & 0o7777).toBe(0o640);
      if (isRoot) expect([st.uid, st.gid]).toEqual([OTHER, OTHER]);
      expect(readdirSync(join(sb.dir, 'real')).filter((f) => f.includes('.tmp'))).toEqual([]);
    };

    ok(sb.run(['encrypt', '-i', '--age', `${sb.recipient},${second.recipient}`, link]));
    check();
    expect(readFileSync(real, 'utf8')).not.toContain('hunter2');
    expect(readFileSync(real, 'utf8')).toContain(second.recipient);

    ok(sb.run(['set', link, '["user"]', '"root"']));
    check();
    ok(sb.run(['unset', link, '["db"]']));
    check();
    ok(sb.run(['edit', link], { env: { EDITOR, FAKE_EDITOR_LOG: join(sb.dir, `ed-${n}.log`), FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'append', text: 'added: by-edit\n' }]) } }));
    check();
    const beforeRotate = readFileSync(real, 'utf8');
    ok(sb.run(['rotate', '-i', link]));
    check();
    expect(readFileSync(real, 'utf8')).not.toBe(beforeRotate);

    // updatekeys drops the second recipient: the real file no longer opens with it.
    writeFileSync(join(sb.dir, '.sops.yaml'), `creation_rules:\n  - age: ${sb.recipient}\n`);
    try {
      expect(sb.run(['updatekeys', '--yes', link]).status).toBe(0);
    } finally {
      rmSync(join(sb.dir, '.sops.yaml'));
    }
    check();
    expect(readFileSync(real, 'utf8')).not.toContain(second.recipient);
    const secondKey = join(sb.dir, `second-${n}.txt`);
    writeFileSync(secondKey, `${second.identity}\n`, { mode: 0o600 });
    expect(sb.run(['decrypt', real], { env: { SOPS_AGE_KEY_FILE: secondKey } }).status).not.toBe(0);

    ok(sb.run(['decrypt', '-i', link]));
    check();
    expect(readFileSync(real, 'utf8')).toBe('user: root\nadded: by-edit\n');
  });

  it('a dangling link is written through when its directory exists, and refused in one line when it does not', () => {
    const plain = join(sb.dir, `plain-${++n}.yaml`);
    writeFileSync(plain, 'token: tok-1\n');
    const link = join(sb.dir, `dangling-${n}.yaml`);
    symlinkSync(`made-later-${n}.yaml`, link);
    ok(sb.run(['encrypt', '--age', sb.recipient, '--output', link, plain]));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(sb.run(['decrypt', join(sb.dir, `made-later-${n}.yaml`)]).stdout).toBe('token: tok-1\n');

    const nowhere = join(sb.dir, `nowhere-${n}.yaml`);
    symlinkSync('no-such-dir/x.yaml', nowhere);
    const r = sb.run(['encrypt', '--age', sb.recipient, '--output', nowhere, plain]);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr)).toMatch(/nowhere-\d+\.yaml: cannot write: no such directory/);
    expect(existsSync(join(sb.dir, 'no-such-dir'))).toBe(false);
  });

  it('a relative link inside a linked directory is read from the directory\'s real place, as the kernel does', () => {
    const i = ++n;
    // view-N -> deep-N/inner; view-N/s.yaml -> ../s.yaml means deep-N/s.yaml, not ./s.yaml.
    mkdirSync(join(sb.dir, `deep-${i}`, 'inner'), { recursive: true });
    const real = join(sb.dir, `deep-${i}`, 's.yaml');
    writeFileSync(real, 'password: hunter2\n');
    symlinkSync('../s.yaml', join(sb.dir, `deep-${i}`, 'inner', 's.yaml'));
    symlinkSync(`deep-${i}/inner`, join(sb.dir, `view-${i}`));
    ok(sb.run(['encrypt', '-i', '--age', sb.recipient, join(sb.dir, `view-${i}`, 's.yaml')]));
    expect(readFileSync(real, 'utf8')).not.toContain('hunter2');
    expect(sb.run(['decrypt', real]).stdout).toBe('password: hunter2\n');
    expect(existsSync(join(sb.dir, 's.yaml'))).toBe(false);
  });

  it('a loop of links is one line, exit 3, nothing written', () => {
    const a = join(sb.dir, `loop-a-${++n}.yaml`);
    symlinkSync(`loop-b-${n}.yaml`, a);
    symlinkSync(`loop-a-${n}.yaml`, join(sb.dir, `loop-b-${n}.yaml`));
    const plain = join(sb.dir, `plain-${n}.yaml`);
    writeFileSync(plain, 'k: v\n');
    const r = sb.run(['encrypt', '--age', sb.recipient, '--output', a, plain]);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr)).toMatch(/too many levels of symbolic links/);
  });
});

describe('hard links', () => {
  it('refuses to split a hard-linked file, with why and how to proceed; every name keeps its content', () => {
    const a = join(sb.dir, `hard-a-${++n}.yaml`);
    const b = join(sb.dir, `hard-b-${n}.yaml`);
    writeFileSync(a, 'password: hunter2\n');
    linkSync(a, b);
    const r = sb.run(['encrypt', '-i', '--age', sb.recipient, a]);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr)).toMatch(/2 hard links .*other names .*break the link first/);
    expect(readFileSync(a, 'utf8')).toBe('password: hunter2\n');
    expect(statSync(a).ino).toBe(statSync(b).ino);
  });

  it('edit refuses a hard-linked file before the editor opens', () => {
    const plain = join(sb.dir, `plain-${++n}.yaml`);
    writeFileSync(plain, 'password: hunter2\n');
    const a = join(sb.dir, `hard-edit-${n}.yaml`);
    ok(sb.run(['encrypt', '--age', sb.recipient, '--output', a, plain]));
    linkSync(a, join(sb.dir, `hard-edit-other-${n}.yaml`));
    const log = join(sb.dir, `ed-${n}.log`);
    const r = sb.run(['edit', a], { env: { EDITOR, FAKE_EDITOR_LOG: log, FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'append', text: 'x: y\n' }]) } });
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr)).toMatch(/hard links/);
    expect(existsSync(log)).toBe(false);
  });
});

describe('a directory that is not writable', () => {
  /** A tree owned by a user the directory permissions apply to: root ignores them, so as root tsops runs as uid 12345. */
  function unprivileged() {
    const dir = mkdtempSync(join(tmpdir(), 'tsops-fs-unwritable-'));
    const sub = (name: string): string => {
      const p = join(dir, name);
      mkdirSync(p);
      return p;
    };
    const secrets = sub('secrets');
    const work = sub('work');
    const home = sub('home');
    const key = join(home, 'keys.txt');
    writeFileSync(key, `${sb.identity}\n`, { mode: 0o600 });
    const file = join(secrets, 'app.enc.yaml');
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, 'password: hunter2\n');
    ok(sb.run(['encrypt', '--age', sb.recipient, '--output', file, plain]));
    rmSync(plain);
    if (isRoot) for (const p of [dir, secrets, work, home, key, file]) chownSync(p, OTHER, OTHER);
    chmodSync(dir, 0o755);
    const run = (args: string[], env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, [TSOPS, ...args], {
        cwd: work,
        env: { PATH: process.env['PATH'], HOME: home, SOPS_AGE_KEY_FILE: key, LANG: 'C.UTF-8', ...env },
        encoding: 'utf8',
        input: '',
        timeout: 60_000,
        ...(isRoot ? { uid: OTHER, gid: OTHER } : {}),
      });
    return { dir, secrets, work, file, run, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }

  it('edit keeps the change, encrypted, in the working directory when the file can no longer be replaced, and says where', () => {
    const t = unprivileged();
    try {
      const before = readFileSync(t.file);
      const log = join(t.work, 'ed.log');
      const actions = [{ type: 'replace', from: 'hunter2', to: 'swordfish', chmod: { path: t.secrets, mode: 0o555 } }];
      const r = t.run(['edit', t.file], { EDITOR, FAKE_EDITOR_LOG: log, FAKE_EDITOR_ACTIONS: JSON.stringify(actions) });
      chmodSync(t.secrets, 0o755);
      expect(r.status).toBe(3);
      const line = oneLine(r.stderr);
      expect(line).toMatch(/permission denied; your edit was saved, encrypted, to /);
      expect(readFileSync(t.file).equals(before)).toBe(true);
      const saved = readdirSync(t.work).filter((f) => f.startsWith('app.enc.conflict-'));
      expect(saved).toHaveLength(1);
      expect(line).toContain(join(t.work, saved[0]!));
      const text = readFileSync(join(t.work, saved[0]!), 'utf8');
      expect(text).not.toContain('swordfish');
      expect(sb.run(['decrypt', join(t.work, saved[0]!)]).stdout).toBe('password: swordfish\n');
      // The plaintext temp file went with its private dir.
      const temp = JSON.parse(readFileSync(log, 'utf8').trim().split('\n')[0]!).path as string;
      expect(existsSync(temp)).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it('edit says so before the editor opens when the directory is already read-only', () => {
    const t = unprivileged();
    try {
      chmodSync(t.secrets, 0o555);
      const log = join(t.work, 'ed.log');
      const r = t.run(['edit', t.file], { EDITOR, FAKE_EDITOR_LOG: log, FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'replace', from: 'hunter2', to: 'swordfish' }]) });
      chmodSync(t.secrets, 0o755);
      expect(r.status).toBe(3);
      expect(oneLine(r.stderr)).toMatch(/app\.enc\.yaml: cannot write: permission denied/);
      expect(existsSync(log)).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});

describe('recursive walks stay in the tree', () => {
  for (const git of [true, false]) {
    it(`rotate -r and updatekeys -r skip links that lead out of the tree${git ? ' (git work tree)' : ''}, with a note`, async () => {
      const base = join(sb.dir, `walk-${++n}`);
      const tree = join(base, 'tree');
      const outside = join(base, 'outside');
      mkdirSync(tree, { recursive: true });
      mkdirSync(outside);
      const plain = join(base, 'plain.yaml');
      writeFileSync(plain, 'password: hunter2\n');
      for (const f of [join(tree, 'inside.yaml'), join(outside, 'out.yaml'), join(outside, 'deep.yaml')]) ok(sb.run(['encrypt', '--age', sb.recipient, '--output', f, plain]));
      symlinkSync('../outside/out.yaml', join(tree, 'link-out.yaml'));
      symlinkSync('../outside', join(tree, 'linkdir'));
      symlinkSync('inside.yaml', join(tree, 'link-in.yaml'));
      if (git) {
        // The index still lists was/deep.yaml after `was` became a link out of the tree.
        execFileSync('git', ['init', '-q'], { cwd: tree });
        mkdirSync(join(tree, 'was'));
        writeFileSync(join(tree, 'was', 'deep.yaml'), 'x: 1\n');
        execFileSync('git', ['add', 'was/deep.yaml'], { cwd: tree });
        rmSync(join(tree, 'was'), { recursive: true });
        symlinkSync('../outside', join(tree, 'was'));
      }
      const outBefore = readFileSync(join(outside, 'out.yaml'));
      const deepBefore = readFileSync(join(outside, 'deep.yaml'));
      const inBefore = readFileSync(join(tree, 'inside.yaml'));

      const r = sb.run(['rotate', '-r', tree]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('1 rotated, 0 failed');
      expect(r.stderr).toMatch(/skipped .*link-out\.yaml: it leads to .*outside/);
      expect(r.stderr).not.toMatch(/link-in/);
      if (git) expect(r.stderr).toMatch(/skipped .*was\/deep\.yaml: it leads to .*outside/);
      expect(readFileSync(join(outside, 'out.yaml')).equals(outBefore)).toBe(true);
      expect(readFileSync(join(outside, 'deep.yaml')).equals(deepBefore)).toBe(true);
      expect(readFileSync(join(tree, 'inside.yaml')).equals(inBefore)).toBe(false);
      expect(lstatSync(join(tree, 'link-in.yaml')).isSymbolicLink()).toBe(true);

      // A rule that adds a recipient: the file in the tree gets it, the one outside does not.
      const second = (await throwawayAgeKey()).recipient;
      writeFileSync(join(tree, '.sops.yaml'), `creation_rules:\n  - age: ${sb.recipient},${second}\n`);
      const u = sb.run(['updatekeys', '--yes', '-r', tree]);
      expect(u.status).toBe(0);
      expect(u.stderr).toMatch(/skipped .*link-out\.yaml/);
      expect(readFileSync(join(tree, 'inside.yaml'), 'utf8')).toContain(second);
      expect(readFileSync(join(outside, 'out.yaml')).equals(outBefore)).toBe(true);
      expect(readFileSync(join(outside, 'deep.yaml')).equals(deepBefore)).toBe(true);
    });
  }
});
