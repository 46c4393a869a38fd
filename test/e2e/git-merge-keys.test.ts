/**
 * The merge driver against hostile branches, in real git repositories: key
 * changes are merged three-way and never undone, a removed recipient cannot
 * read what is merged afterwards, policy changes, new plaintext and tampered
 * versions stop the merge. Also: `encrypt --output` makes a fresh data key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TSOPS, sandbox, type Sandbox } from '../support/cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';
import { gitEnv } from '../support/git.js';

let sb: Sandbox;
/** alice merges (the sandbox key); bob and carol are other people with their own keys. */
let alice: NodeJS.ProcessEnv;
let bob: { recipient: string; env: NodeJS.ProcessEnv };
let carol: { recipient: string; env: NodeJS.ProcessEnv };
let n = 0;

async function person(name: string, base: NodeJS.ProcessEnv): Promise<{ recipient: string; env: NodeJS.ProcessEnv }> {
  const key = await throwawayAgeKey();
  const file = join(sb.dir, `${name}-keys.txt`);
  writeFileSync(file, `${key.identity}\n`, { mode: 0o600 });
  return { recipient: key.recipient, env: { ...base, SOPS_AGE_KEY_FILE: file } };
}

beforeAll(async () => {
  sb = await sandbox();
  alice = gitEnv(sb);
  bob = await person('bob', alice);
  carol = await person('carol', alice);
});
afterAll(() => sb.cleanup());

type Run = (args: string[], env?: NodeJS.ProcessEnv) => SpawnSyncReturns<string>;

function repo(file = 'secrets.enc.json'): { dir: string; file: string; git: (...args: string[]) => string; tsops: Run; read: () => any; write: (doc: unknown) => void } {
  const dir = join(sb.dir, `repo-${++n}`);
  mkdirSync(dir);
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, env: alice, encoding: 'utf8' });
  const tsops: Run = (args, env = alice) => spawnSync(process.execPath, [TSOPS, ...args], { cwd: dir, env, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  expect(tsops(['git', 'install']).status).toBe(0);
  const ext = file.endsWith('.json') ? 'json' : 'yaml';
  writeFileSync(join(dir, `plain.${ext}`), ext === 'json' ? '{"db": {"user": "admin", "password": "hunter2"}, "api": {"token": "tok-1", "url": "https://api"}}\n' : 'db:\n  user: admin\n  password: hunter2\napi:\n  token: tok-1\n  url: https://api\n');
  expect(tsops(['encrypt', '--age', `${sb.recipient},${bob.recipient}`, `--output=${file}`, `plain.${ext}`]).status).toBe(0);
  git('add', '--', file, '.gitattributes');
  git('commit', '-qm', 'secrets');
  const read = (): any => JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const write = (doc: unknown): void => writeFileSync(join(dir, file), JSON.stringify(doc, null, '\t') + '\n');
  return { dir, file, git, tsops, read, write };
}

const ok = (r: SpawnSyncReturns<string>): string => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
};
const recipients = (doc: any): string[] => (doc.sops.age as { recipient: string }[]).map((a) => a.recipient).sort();
const merge = (dir: string, branch: string, env = alice) => spawnSync('git', ['merge', '--no-edit', branch], { cwd: dir, env, encoding: 'utf8' });

describe('merging key changes', () => {
  it('a recipient removed on a branch stays removed, and the merged file has a data key they never held', () => {
    const r = repo();
    const before = r.read();
    r.git('checkout', '-qb', 'offboard');
    ok(r.tsops(['rotate', '-i', '--rm-age', bob.recipient, r.file]));
    r.git('commit', '-qam', 'remove bob');
    r.git('checkout', '-q', 'main');
    ok(r.tsops(['rotate', '-i', r.file]));
    ok(r.tsops(['set', r.file, '["api"]["url"]', '"https://new"']));
    r.git('commit', '-qam', 'routine rotation');
    const onMain = r.read();

    const m = merge(r.dir, 'offboard');
    expect(m.status).toBe(0);
    expect(m.stderr).toContain('fresh data key');
    expect(m.stderr).toContain(`tsops: ${r.file}: master keys removed by their side: ${bob.recipient}\n`);
    const merged = r.read();
    expect(recipients(merged)).toEqual([sb.recipient]);
    ok(r.tsops(['set', r.file, '["db"]["password"]', '"after-merge"']));
    const after = r.read();
    // bob kept his wrapped copies of every data key he ever had: none opens the merged file.
    for (const old of [before, onMain]) {
      const bobsEntry = (old.sops.age as { recipient: string }[]).find((a) => a.recipient === bob.recipient);
      const forged = { ...after, sops: { ...after.sops, age: [bobsEntry] } };
      writeFileSync(join(r.dir, 'forged.json'), JSON.stringify(forged, null, '\t'));
      const attempt = r.tsops(['decrypt', '--ignore-mac', 'forged.json'], bob.env);
      expect(attempt.status).not.toBe(0);
      expect(attempt.stdout).not.toContain('after-merge');
    }
    expect(JSON.parse(ok(r.tsops(['decrypt', r.file])))).toEqual({ db: { user: 'admin', password: 'after-merge' }, api: { token: 'tok-1', url: 'https://new' } });
  });

  it('a recipient added on their side is kept when ours rotated too', () => {
    const r = repo();
    r.git('checkout', '-qb', 'onboard');
    ok(r.tsops(['rotate', '-i', '--add-age', carol.recipient, r.file]));
    r.git('commit', '-qam', 'add carol');
    r.git('checkout', '-q', 'main');
    ok(r.tsops(['rotate', '-i', r.file]));
    r.git('commit', '-qam', 'routine rotation');
    const m = merge(r.dir, 'onboard');
    expect(m.status).toBe(0);
    expect(m.stderr).toContain(`tsops: ${r.file}: master keys added by their side: ${carol.recipient}\n`);
    expect(recipients(r.read())).toEqual([sb.recipient, bob.recipient, carol.recipient].sort());
    expect(JSON.parse(ok(r.tsops(['decrypt', r.file], carol.env))).db.password).toBe('hunter2');
  });

  it('a recipient added on one side and another removed on the other: both changes survive', () => {
    const r = repo();
    r.git('checkout', '-qb', 'onboard');
    ok(r.tsops(['rotate', '-i', '--add-age', carol.recipient, r.file]));
    r.git('commit', '-qam', 'add carol');
    r.git('checkout', '-q', 'main');
    ok(r.tsops(['rotate', '-i', '--rm-age', bob.recipient, r.file]));
    r.git('commit', '-qam', 'remove bob');
    expect(merge(r.dir, 'onboard').status).toBe(0);
    expect(recipients(r.read())).toEqual([sb.recipient, carol.recipient].sort());
    expect(r.tsops(['decrypt', r.file], bob.env).status).not.toBe(0);
  });

  it('a value conflict in a merge that removes a recipient: the merged file and the kept conflicts use the fresh key', () => {
    const r = repo();
    const before = r.read();
    r.git('checkout', '-qb', 'offboard');
    ok(r.tsops(['rotate', '-i', '--rm-age', bob.recipient, r.file]));
    ok(r.tsops(['set', r.file, '["db"]["password"]', '"from-a"']));
    r.git('commit', '-qam', 'remove bob, new password');
    r.git('checkout', '-q', 'main');
    ok(r.tsops(['rotate', '-i', r.file]));
    ok(r.tsops(['set', r.file, '["db"]["password"]', '"from-main"']));
    r.git('commit', '-qam', 'routine rotation, main password');
    const m = merge(r.dir, 'offboard');
    expect(m.status).not.toBe(0);
    expect(m.stderr).toMatch(/tsops resolve secrets\.enc\.json/);
    expect(recipients(r.read())).toEqual([sb.recipient]);
    const editor = join(r.dir, 'agree.sh');
    writeFileSync(editor, `#!/bin/sh\nsed -i 's/resolved: from-main/resolved: agreed/' "$1"\n`);
    chmodSync(editor, 0o755);
    ok(r.tsops(['resolve', r.file], { ...alice, EDITOR: editor }));
    const resolved = r.read();
    expect(recipients(resolved)).toEqual([sb.recipient]);
    expect(JSON.parse(ok(r.tsops(['decrypt', r.file]))).db.password).toBe('agreed');
    const bobsEntry = (before.sops.age as { recipient: string }[]).find((a) => a.recipient === bob.recipient);
    writeFileSync(join(r.dir, 'forged.json'), JSON.stringify({ ...resolved, sops: { ...resolved.sops, age: [bobsEntry] } }, null, '\t'));
    expect(r.tsops(['decrypt', '--ignore-mac', 'forged.json'], bob.env).status).not.toBe(0);
  });

  it('when the merging user cannot read a version, the merge conflicts and says why', () => {
    const r = repo();
    r.git('checkout', '-qb', 'a');
    ok(r.tsops(['set', r.file, '["db"]["password"]', '"from-a"']));
    r.git('commit', '-qam', 'a');
    r.git('checkout', '-q', 'main');
    ok(r.tsops(['set', r.file, '["api"]["token"]', '"from-main"']));
    r.git('commit', '-qam', 'main');
    const m = merge(r.dir, 'a', { ...carol.env, PATH: alice['PATH'] });
    expect(m.status).not.toBe(0);
    expect(m.stderr).toMatch(/cannot decrypt every version with your keys/);
  });
});

describe('merging key groups (Shamir)', () => {
  /** The groups come from an untracked .sopsrc that each branch rewrites before re-encrypting. */
  function grouped(groups: string[][], threshold: number): ReturnType<typeof repo> & { regroup: (groups: string[][], threshold: number) => void } {
    const r = repo();
    const regroup = (g: string[][], t: number): void => {
      writeFileSync(join(r.dir, '.sopsrc'), `creation_rules:\n  - shamir_threshold: ${t}\n    key_groups:\n${g.map((k) => `      - age: [${k.join(', ')}]\n`).join('')}`);
      // updatekeys keeps a file's threshold; encrypting the plaintext again applies the rule's.
      writeFileSync(join(r.dir, 'p.json'), ok(r.tsops(['decrypt', r.file])));
      ok(r.tsops(['encrypt', `--output=${r.file}`, 'p.json']));
    };
    regroup(groups, threshold);
    r.git('commit', '-qam', 'groups');
    return { ...r, regroup };
  }
  const groupsOf = (doc: any): string[][] => (doc.sops.key_groups as { age: { recipient: string }[] }[]).map((g) => g.age.map((a) => a.recipient).sort());

  it('keys removed from different groups on each side are removed from both', () => {
    const [a, b, c] = [sb.recipient, bob.recipient, carol.recipient];
    const r = grouped([[a, b], [a, c]], 2);
    r.git('checkout', '-qb', 'side');
    r.regroup([[a], [a, c]], 2);
    r.git('commit', '-qam', 'drop bob');
    r.git('checkout', '-q', 'main');
    r.regroup([[a, b], [a]], 2);
    r.git('commit', '-qam', 'drop carol');
    const m = merge(r.dir, 'side');
    expect(m.status).toBe(0);
    const doc = r.read();
    expect(groupsOf(doc)).toEqual([[a], [a]]);
    expect(doc.sops.shamir_threshold).toBe(2);
    expect(JSON.parse(ok(r.tsops(['decrypt', r.file]))).db.password).toBe('hunter2');
  });

  it('both sides changing the Shamir threshold differently is refused', () => {
    const [a, b, c] = [sb.recipient, bob.recipient, carol.recipient];
    const r = grouped([[a, b], [a, c], [a]], 2);
    r.git('checkout', '-qb', 'side');
    r.regroup([[a, b], [a, c], [a], [a, c]], 4);
    r.git('commit', '-qam', 'four groups, all needed');
    r.git('checkout', '-q', 'main');
    r.regroup([[a, b], [a, c], [a]], 3);
    r.git('commit', '-qam', 'all three needed');
    expect(r.read().sops.shamir_threshold).toBe(3);
    const ours = readFileSync(join(r.dir, r.file), 'utf8');
    const m = merge(r.dir, 'side');
    expect(m.status).not.toBe(0);
    expect(m.stderr).toMatch(/not merged: master keys cannot be merged: both sides changed the Shamir threshold \(3 and 4\)/);
    expect(readFileSync(join(r.dir, r.file), 'utf8')).toBe(ours);
  });

  it('both sides changing the number of key groups is refused', () => {
    const [a, b, c] = [sb.recipient, bob.recipient, carol.recipient];
    const r = grouped([[a, b], [a, c]], 2);
    r.git('checkout', '-qb', 'side');
    r.regroup([[a, b], [a, c], [a]], 2);
    r.git('commit', '-qam', 'three groups');
    r.git('checkout', '-q', 'main');
    r.regroup([[a, b], [a, c], [a, b]], 2);
    r.git('commit', '-qam', 'two other groups');
    const ours = readFileSync(join(r.dir, r.file), 'utf8');
    const m = merge(r.dir, 'side');
    expect(m.status).not.toBe(0);
    expect(m.stderr).toMatch(/not merged: master keys cannot be merged: both sides changed the number of key groups/);
    expect(readFileSync(join(r.dir, r.file), 'utf8')).toBe(ours);
  });
});

describe('merges that would weaken the file are refused', () => {
  function hostile(change: (r: ReturnType<typeof repo>) => void): { r: ReturnType<typeof repo>; m: ReturnType<typeof merge>; ours: string } {
    const r = repo();
    r.git('checkout', '-qb', 'hostile');
    change(r);
    // A hostile contributor skips the pre-commit guard.
    r.git('commit', '--no-verify', '-qam', 'hostile');
    r.git('checkout', '-q', 'main');
    ok(r.tsops(['set', r.file, '["api"]["token"]', '"from-main"']));
    r.git('commit', '-qam', 'main');
    const ours = readFileSync(join(r.dir, r.file), 'utf8');
    return { r, m: merge(r.dir, 'hostile'), ours };
  }
  const refused = (h: ReturnType<typeof hostile>, reason: RegExp): void => {
    expect(h.m.status).not.toBe(0);
    const line = h.m.stderr.split('\n').find((l) => l.startsWith('tsops: '));
    expect(line).toMatch(new RegExp(`^tsops: ${h.r.file}: not merged: `));
    expect(line).toMatch(reason);
    expect(h.m.stderr).not.toMatch(/hunter2|tok-1|from-main|\n\s+at /);
    // Our version stays as it was: nothing re-encrypted and authenticated.
    expect(readFileSync(join(h.r.dir, h.r.file), 'utf8')).toBe(h.ours);
  };

  it('a branch that narrows encrypted_regex', () => {
    const h = hostile((r) => {
      const plain = ok(r.tsops(['decrypt', r.file]));
      writeFileSync(join(r.dir, 'p.json'), plain);
      ok(r.tsops(['encrypt', '--encrypted-regex', '^password$', '--age', `${sb.recipient},${bob.recipient}`, '--output', r.file, 'p.json']));
    });
    refused(h, /changes the encryption policy from unencrypted_suffix '_unencrypted' to encrypted_regex '\^password\$'/);
  });

  it('a branch that turns on mac_only_encrypted', () => {
    const h = hostile((r) => {
      writeFileSync(join(r.dir, 'p.json'), ok(r.tsops(['decrypt', r.file])));
      ok(r.tsops(['encrypt', '--mac-only-encrypted', '--age', `${sb.recipient},${bob.recipient}`, '--output', r.file, 'p.json']));
    });
    refused(h, /mac_only_encrypted/);
  });

  it('a branch that adds a value stored unencrypted', () => {
    const h = hostile((r) => ok(r.tsops(['set', r.file, '["db"]["note_unencrypted"]', '"hunter3"'])));
    refused(h, /the their version adds the unencrypted value at \["db"\]\["note_unencrypted"\]/);
  });

  it('a branch that adds a plaintext value the rules say must be encrypted', () => {
    const h = hostile((r) => {
      const doc = r.read();
      doc.db.extra = 'planted';
      r.write(doc);
    });
    refused(h, /their version does not verify/);
  });

  it('a branch that plants a recipient with terminal escapes: refused, printed escaped', () => {
    const h = hostile((r) => {
      const doc = r.read();
      doc.sops.age.push({ ...doc.sops.age[0], recipient: 'age1\u001b[2J\u202eevil' });
      r.write(doc);
    });
    refused(h, /cannot wrap a fresh data key for the merged master keys: .*age1\\x1b\[2J\\u\{202e\}evil/);
    expect(h.m.stderr).not.toMatch(/[\u001b\u202e]/);
  });

  it('a branch that swaps two ciphertexts (MAC mismatch)', () => {
    const h = hostile((r) => {
      const doc = r.read();
      [doc.db.user, doc.api.url] = [doc.api.url, doc.db.user];
      r.write(doc);
    });
    refused(h, /their version does not verify/);
  });

  it('a branch that replays the MAC of another version', () => {
    const h = hostile((r) => {
      const older = r.read();
      ok(r.tsops(['set', r.file, '["db"]["password"]', '"changed"']));
      const doc = r.read();
      doc.sops.mac = older.sops.mac;
      doc.sops.lastmodified = older.sops.lastmodified;
      r.write(doc);
    });
    refused(h, /their version does not verify: .*MAC/);
  });
});

describe('a file named like an option', () => {
  for (const install of ['current', 'older'] as const) {
    it(`-v.enc.yaml merges value by value (${install} driver command line)`, () => {
      const r = repo('-v.enc.yaml');
      if (install === 'older') {
        r.git('config', '--local', 'merge.tsops.driver', 'tsops merge-driver %O %A %B %P');
        r.git('config', '--local', 'diff.tsops.textconv', 'tsops git textconv');
      } else {
        expect(r.git('config', '--local', 'merge.tsops.driver')).toContain('merge-driver -- %O %A %B %P');
        expect(r.git('config', '--local', 'diff.tsops.textconv')).toContain('git textconv --');
      }
      r.git('checkout', '-qb', 'a');
      ok(r.tsops(['set', '--', r.file, '["db"]["password"]', '"from-a"']));
      r.git('commit', '-qam', 'a');
      r.git('checkout', '-q', 'main');
      ok(r.tsops(['set', '--', r.file, '["api"]["token"]', '"from-main"']));
      r.git('commit', '-qam', 'main');
      const m = merge(r.dir, 'a');
      expect(m.stderr).not.toMatch(/tsops/);
      expect(m.status).toBe(0);
      const plain = ok(r.tsops(['decrypt', '--', r.file]));
      expect(plain).toContain('password: from-a');
      expect(plain).toContain('token: from-main');
      // The diff driver is handed the same name: it shows the plaintext change, not tsops's version.
      expect(r.git('diff', 'HEAD~1', 'HEAD', '--', r.file)).toContain('+  password: from-a');
    });
  }
});

describe('encrypt --output over an existing file', () => {
  it('makes a fresh data key by default: a planted copy of the old data key reads nothing new', () => {
    const dir = join(sb.dir, `enc-${++n}`);
    mkdirSync(dir);
    const run: Run = (args, env = alice) => spawnSync(process.execPath, [TSOPS, ...args], { cwd: dir, env, encoding: 'utf8' });
    // bob creates the file for alice and himself, then quietly drops his own entry (metadata is not under the MAC).
    writeFileSync(join(dir, 'p.json'), '{"token": "old"}\n');
    ok(run(['encrypt', '--age', `${sb.recipient},${bob.recipient}`, '--output', 's.enc.json', 'p.json'], bob.env));
    const created = JSON.parse(readFileSync(join(dir, 's.enc.json'), 'utf8'));
    const bobsEntry = created.sops.age.find((a: { recipient: string }) => a.recipient === bob.recipient);
    created.sops.age = created.sops.age.filter((a: { recipient: string }) => a.recipient !== bob.recipient);
    writeFileSync(join(dir, 's.enc.json'), JSON.stringify(created, null, '\t'));

    const replantAndRead = (): SpawnSyncReturns<string> => {
      const doc = JSON.parse(readFileSync(join(dir, 's.enc.json'), 'utf8'));
      doc.sops.age.push(bobsEntry);
      writeFileSync(join(dir, 'replanted.json'), JSON.stringify(doc, null, '\t'));
      return run(['decrypt', 'replanted.json'], bob.env);
    };
    // alice encrypts a new secret into it with her key only.
    writeFileSync(join(dir, 'p.json'), '{"token": "new-secret"}\n');
    ok(run(['encrypt', '--age', sb.recipient, '--output', 's.enc.json', 'p.json']));
    const attempt = replantAndRead();
    expect(attempt.status).not.toBe(0);
    expect(attempt.stdout).not.toContain('new-secret');

    // The opt-in keeps the data key, which is exactly the documented risk.
    writeFileSync(join(dir, 'p.json'), '{"token": "reused"}\n');
    ok(run(['encrypt', '--age', sb.recipient, '--output', 's.enc.json', 'p.json']));
    const created2 = readFileSync(join(dir, 's.enc.json'), 'utf8');
    ok(run(['encrypt', '--reuse-data-key', '--age', sb.recipient, '--output', 's.enc.json', 'p.json']));
    expect(readFileSync(join(dir, 's.enc.json'), 'utf8').split('\n').filter((l) => l.includes('"token"'))).toEqual(created2.split('\n').filter((l) => l.includes('"token"')));
  });
});
