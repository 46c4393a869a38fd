/**
 * Config files someone else planted are passed over; configs sops accepts load;
 * no regex from a file, a config or metadata (nor tsops's own) can hang a command;
 * rotate warns about recipients its creation rule does not name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandbox, TSOPS, type Sandbox } from '../support/cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';

let sb: Sandbox;
let other: { identity: string; recipient: string };
beforeAll(async () => {
  sb = await sandbox();
  other = await throwawayAgeKey();
});
afterAll(() => sb.cleanup());

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** A gid that no account uses, as primary group or as a member. */
const LONELY_GID = 54321;

let counter = 0;
/** A fresh repository (a `.git` directory) under the sandbox's home, with a trusted `.sopsrc` for the sandbox key. */
function repo(sopsrc = `creation_rules:\n  - age: ${'RECIPIENT'}\n`): string {
  const dir = join(sb.dir, `repo-${++counter}`);
  mkdirSync(join(dir, '.git'), { recursive: true });
  writeFileSync(join(dir, '.sopsrc'), sopsrc.replaceAll('RECIPIENT', sb.recipient));
  return dir;
}

/** A config that would leave `password` in plaintext and add a stranger's key. */
const planted = () => `creation_rules:\n  - age: ${other.recipient}\n    unencrypted_regex: ^password$\n`;

function encryptIn(dir: string, file: string, args: string[] = []) {
  writeFileSync(join(dir, file), 'password: hunter2\n');
  return sb.run(['encrypt', ...args, file], { cwd: dir });
}

function expectNotPlanted(r: ReturnType<Sandbox['run']>): void {
  expect(r.status).toBe(0);
  expect(r.stdout).not.toContain('hunter2');
  expect(r.stdout).not.toContain(other.recipient);
  expect(r.stdout).toContain(sb.recipient);
}

describe('a config file cannot be planted', () => {
  it('one in a directory others can write (no sticky bit) is passed over with a warning', () => {
    const dir = repo();
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    writeFileSync(join(shared, '.sops.yaml'), planted());
    const r = encryptIn(shared, 's.yaml');
    expectNotPlanted(r);
    expect(r.stderr).toBe(`tsops: warning: ignoring config file ${join(shared, '.sops.yaml')}: other users can write to its directory ${shared}\n`);
  });

  it('the warning escapes control characters in the planted path', () => {
    const dir = repo();
    const shared = join(dir, 'evil\u001b[31m');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    writeFileSync(join(shared, '.sops.yaml'), planted());
    const r = encryptIn(shared, 's.yaml');
    expectNotPlanted(r);
    expect(r.stderr).not.toMatch(/\u001b/);
    expect(r.stderr).toContain('evil\\x1b[31m/.sops.yaml');
  });

  it('one others can write is passed over; once fixed it is used', () => {
    const dir = repo();
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    writeFileSync(join(sub, '.sops.yaml'), planted());
    chmodSync(join(sub, '.sops.yaml'), 0o666);
    const r = encryptIn(sub, 's.yaml');
    expectNotPlanted(r);
    expect(r.stderr).toContain(`ignoring config file ${join(sub, '.sops.yaml')}: other users can write to it`);
    chmodSync(join(sub, '.sops.yaml'), 0o644);
    const fixed = encryptIn(sub, 's.yaml');
    expect(fixed.stderr).toBe('');
    expect(fixed.stdout).toContain('password: hunter2');
  });

  it.skipIf(!isRoot)('one owned by another user (uid 12345) is passed over', () => {
    const dir = repo();
    const sub = join(dir, 'theirs');
    mkdirSync(sub);
    writeFileSync(join(sub, '.sopsrc'), planted());
    chownSync(join(sub, '.sopsrc'), 12345, 12345);
    const r = encryptIn(sub, 's.yaml');
    expectNotPlanted(r);
    expect(r.stderr).toContain(`ignoring config file ${join(sub, '.sopsrc')}: it is owned by another user (uid 12345)`);
  });

  it.skipIf(!isRoot)('group-writable counts only when the group holds other users', () => {
    const dir = repo();
    const sub = join(dir, 'group');
    mkdirSync(sub);
    const config = join(sub, '.sopsrc');
    writeFileSync(config, planted());
    chmodSync(config, 0o664);
    // gid 1 (daemon, bin...) is some other account's group on every Linux system.
    chownSync(config, 0, 1);
    const withOthers = encryptIn(sub, 's.yaml');
    expectNotPlanted(withOthers);
    expect(withOthers.stderr).toContain(`ignoring config file ${config}: other users can write to it`);
    chownSync(config, 0, LONELY_GID);
    const alone = encryptIn(sub, 's.yaml');
    expect(alone.stderr).toBe('');
    expect(alone.stdout).toContain('password: hunter2');
  });
  it.skipIf(!isRoot || !existsSync('/usr/bin/setpriv'))('for another user, a root-owned config in a sticky world-writable directory (like /tmp) is not theirs', () => {
    const shared = mkdtempSync(join(tmpdir(), 'tsops-sticky-'));
    try {
      chmodSync(shared, 0o1777);
      writeFileSync(join(shared, '.sops.yaml'), planted());
      writeFileSync(join(shared, 's.yaml'), 'password: hunter2\n');
      chownSync(join(shared, 's.yaml'), 12345, 12345);
      const asUser = (args: string[]) =>
        spawnSync('/usr/bin/setpriv', ['--reuid=12345', '--regid=12345', '--clear-groups', process.execPath, TSOPS, ...args], {
          cwd: shared,
          env: { PATH: process.env['PATH'], HOME: shared },
          encoding: 'utf8',
          timeout: 60_000,
        });
      const r = asUser(['encrypt', '--age', sb.recipient, 's.yaml']);
      expectNotPlanted(r);
      expect(r.stderr).toBe(`tsops: warning: ignoring config file ${join(shared, '.sops.yaml')}: it is not yours and sits in a directory anyone can write to (${shared})\n`);
      // Their own config there is theirs to use.
      chownSync(join(shared, '.sops.yaml'), 12345, 12345);
      const own = asUser(['encrypt', 's.yaml']);
      expect(own.stderr).toBe('');
      expect(own.stdout).toContain('password: hunter2');
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });
  it.runIf(!isRoot)('ownership cases need root to chown: skipped', () => {
    console.log('config-trust: not root, the uid 12345 and group ownership cases are skipped');
  });

  it('the search stops at the repository root, from the target and from cwd', () => {
    const outer = join(sb.dir, `outer-${++counter}`);
    const inner = join(outer, 'project');
    mkdirSync(join(inner, '.git'), { recursive: true });
    mkdirSync(join(inner, 'app'));
    writeFileSync(join(outer, '.sopsrc'), planted());
    const r = encryptIn(join(inner, 'app'), 's.yaml', ['--age', sb.recipient]);
    expectNotPlanted(r);
    expect(r.stderr).toBe('');
    const none = encryptIn(join(inner, 'app'), 's.yaml');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no config file found/);
  });

  it('outside a repository the search stops at the home directory', () => {
    const home = join(sb.dir, `home-${++counter}`);
    mkdirSync(join(home, 'work'), { recursive: true });
    writeFileSync(join(sb.dir, '.sops.yaml'), planted());
    try {
      writeFileSync(join(home, 'work', 's.yaml'), 'password: hunter2\n');
      const r = sb.run(['encrypt', 's.yaml'], { cwd: join(home, 'work'), env: { HOME: home } });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/no config file found/);
      writeFileSync(join(home, '.sopsrc'), `creation_rules:\n  - age: ${sb.recipient}\n`);
      const mine = sb.run(['encrypt', 's.yaml'], { cwd: join(home, 'work'), env: { HOME: home } });
      expectNotPlanted(mine);
    } finally {
      writeFileSync(join(sb.dir, '.sops.yaml'), '');
    }
  });

  it('--config is used as given, with a warning when others can write it', () => {
    const dir = repo();
    const config = join(dir, 'team.yaml');
    writeFileSync(config, `creation_rules:\n  - age: ${sb.recipient}\n    unencrypted_regex: ^password$\n`);
    chmodSync(config, 0o666);
    const r = encryptIn(dir, 's.yaml', ['--config', 'team.yaml']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('password: hunter2');
    expect(r.stderr).toBe(`tsops: warning: config file ${config}: other users can write to it; used because --config names it\n`);
  });

  it('--verbose names the config and the creation rule used; key flags replace the rule\'s keys', () => {
    const dir = repo(`creation_rules:\n  - path_regex: ^prod/\n    age: ${other.recipient}\n  - path_regex: \\.yaml$\n    age: ${other.recipient}\n    unencrypted_regex: ^password$\n`);
    const r = encryptIn(dir, 's.yaml', ['--verbose', '--age', sb.recipient]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`tsops: config: ${join(dir, '.sopsrc')}\n`);
    expect(r.stderr).toContain('tsops: creation rule: #1 at line 4, path_regex "\\\\.yaml$"\n');
    expect(r.stderr).toContain('tsops: keys: from the command line or environment, not the creation rule\n');
    // As in sops: the flag replaces the keys, the rule's other settings still apply.
    expect(r.stdout).not.toContain(other.recipient);
    expect(r.stdout).toContain('password: hunter2');
  });
});

describe('configs that sops accepts load', () => {
  it('top-level anchors (the Flux pattern) resolve in rules; other top-level fields are ignored', () => {
    const dir = repo(`keys:\n  - &me ${'RECIPIENT'}\n  - &ci arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\nsettings: {team: x}\ncreation_rules:\n  - path_regex: \\.yaml$\n    key_groups:\n      - age:\n          - *me\n`);
    const r = encryptIn(dir, 's.yaml');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(sb.recipient);
  });

  it('an unknown rule field warns with file, line and closest name, and a typo in path_regex says the rule applies everywhere', () => {
    const dir = repo(`creation_rules:\n  - path_regexp: ^nothing-matches$\n    age: ${'RECIPIENT'}\n    key_groups:\n      - age: [${'RECIPIENT'}]\n        agee: [x]\n`);
    const r = encryptIn(dir, 's.yaml');
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `tsops: warning: ${join(dir, '.sopsrc')}:2: unknown field 'path_regexp' in creation_rules[0] (did you mean 'path_regex'?); ignored, as sops does, so this rule applies to every file`,
      `tsops: warning: ${join(dir, '.sopsrc')}:6: unknown field 'agee' in creation_rules[0].key_groups[0] (did you mean 'age'?); ignored, as sops does`,
    ]);
  });

  it('Go regex syntax works in path_regex (\\- and a mid-pattern (?i)); a pattern RE2 rejects is refused with its reason', () => {
    const dir = repo(`creation_rules:\n  - path_regex: ^prod\\-(?i)SECRETS\\.yaml$\n    age: ${'RECIPIENT'}\n    unencrypted_regex: ^password$\n  - age: ${other.recipient}\n`);
    const r = encryptIn(dir, 'prod-secrets.yaml');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('password: hunter2');
    const bad = repo(`creation_rules:\n  - path_regex: ^(?=x)\n    age: ${'RECIPIENT'}\n`);
    const refused = encryptIn(bad, 's.yaml');
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/\.sopsrc:2: creation_rules\[0\]\.path_regex is not a valid regular expression \(invalid or unsupported Perl syntax/);
  });

  it('empty key groups fail only for the files that use the rule, with sops\'s message', () => {
    const dir = repo(`creation_rules:\n  - path_regex: ^a\n    key_groups: []\n  - path_regex: ^b\n    key_groups:\n      - {}\n  - path_regex: ^c\n    encrypted_suffix: _s\n  - age: ${'RECIPIENT'}\n`);
    for (const name of ['a.yaml', 'b.yaml', 'c.yaml']) {
      const r = encryptIn(dir, name);
      expect(r.status, name).toBe(1);
      expect(r.stderr).toBe(`tsops: ${name}: Could not generate data key: [empty key group provided]\n`);
    }
    const ok = encryptIn(dir, 'd.yaml');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(sb.recipient);
  });

  it('a broken rule stops only the files whose rule search reaches it', () => {
    const dir = repo(`creation_rules:\n  - path_regex: ^ok\n    age: ${'RECIPIENT'}\n  - path_regex: "(("\n    age: ${'RECIPIENT'}\n  - mac_only_encrypted: maybe\n`);
    const ok = encryptIn(dir, 'ok.yaml');
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const reached = encryptIn(dir, 'other.yaml');
    expect(reached.status).toBe(1);
    expect(reached.stderr).toMatch(/^tsops: .*\.sopsrc:4: creation_rules\[1\]\.path_regex is not a valid regular expression \(missing closing \)/);
    expect(reached.stderr.trim().split('\n')).toHaveLength(1);
    writeFileSync(join(dir, 'ok.enc.yaml'), ok.stdout);
    const rotated = sb.run(['rotate', 'ok.enc.yaml'], { cwd: dir });
    expect(rotated.stderr).toBe('');
    expect(rotated.status).toBe(0);
  });

  it('decrypt never reads the config: a broken one does not stop it', () => {
    const dir = repo();
    const enc = encryptIn(dir, 's.yaml');
    expect(enc.status).toBe(0);
    writeFileSync(join(dir, 's.enc.yaml'), enc.stdout);
    writeFileSync(join(dir, '.sopsrc'), 'creation_rules: [unbalanced\n');
    const r = sb.run(['decrypt', 's.enc.yaml'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('password: hunter2\n');
  });
});

describe('no regex can hang tsops', { timeout: 60_000 }, () => {
  // Each of these backtracks for hours in a backtracking engine; 30 s is far more than RE2 or a scan ever needs.
  const longKey = 'a'.repeat(5000) + 'b';

  it('hostile encryption-rule regexes in flags and metadata: encrypt, decrypt and the git diff driver finish', { timeout: 30_000 }, () => {
    const dir = repo();
    writeFileSync(join(dir, 's.yaml'), `${longKey}: x\npassword: hunter2\n`);
    const enc = sb.run(['encrypt', '--unencrypted-regex', '(a+)+$', 's.yaml'], { cwd: dir });
    expect(enc.stderr).toBe('');
    expect(enc.status).toBe(0);
    expect(enc.stdout).toContain('unencrypted_regex: (a+)+$');
    writeFileSync(join(dir, 's.enc.yaml'), enc.stdout);
    // Someone without keys rewrites the rule in the metadata: decrypt never needs it, but must not hang on it.
    writeFileSync(join(dir, 's.hostile.yaml'), enc.stdout.replace('unencrypted_regex: (a+)+$', 'unencrypted_regex: (x+x+)+y'));
    for (const f of ['s.enc.yaml', 's.hostile.yaml']) {
      const dec = sb.run(['decrypt', f], { cwd: dir });
      expect(dec.status, dec.stderr).toBe(0);
      expect(dec.stdout).toContain('password: hunter2');
      const diff = sb.run(['git', 'textconv', f], { cwd: dir });
      expect(diff.status, diff.stderr).toBe(0);
      expect(diff.stdout).toContain('password: hunter2');
    }
  });

  it('a hostile path_regex in a config finishes against a long path', { timeout: 30_000 }, () => {
    const dir = repo(`creation_rules:\n  - path_regex: (a+)+$\n    age: ${other.recipient}\n  - age: ${'RECIPIENT'}\n`);
    const name = 'a'.repeat(200) + 'b.yaml';
    const r = encryptIn(dir, name);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(sb.recipient);
  });

  it('a comment line crafted against the ENC pattern is read in linear time', { timeout: 30_000 }, () => {
    const dir = repo();
    const enc = encryptIn(dir, 's.yaml');
    expect(enc.status).toBe(0);
    // ~6 KB: the old backtracking pattern took minutes on this; the scan takes microseconds.
    const crafted = 'ENC[AES256_GCM,data:' + ',iv:,tag:,type:'.repeat(400);
    writeFileSync(join(dir, 's.enc.yaml'), `#${crafted}\n${enc.stdout}`);
    const r = sb.run(['decrypt', 's.enc.yaml'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('password: hunter2');
    // The same text as a list item and as a value.
    writeFileSync(join(dir, 'l.yaml'), `list:\n  - "${crafted}"\nv: "${crafted}"\n`);
    const list = sb.run(['encrypt', 'l.yaml'], { cwd: dir });
    expect(list.status, list.stderr).toBe(0);
    writeFileSync(join(dir, 'l.enc.yaml'), list.stdout);
    const back = sb.run(['decrypt', 'l.enc.yaml'], { cwd: dir });
    expect(back.status, back.stderr).toBe(0);
    expect(back.stdout).toContain(crafted);
  });
});

describe('tsops\'s own patterns on hostile values', () => {
  it('a value with a long run of newlines is written as a YAML block in linear time', { timeout: 30_000 }, () => {
    // 200 KB: counting its trailing newlines with the old pattern took 42 s (quadratic).
    const dir = repo();
    const value = 'a' + '\n'.repeat(200_000) + 'b';
    writeFileSync(join(dir, 'v.json'), JSON.stringify({ k: value }));
    const enc = sb.run(['encrypt', 'v.json'], { cwd: dir });
    expect(enc.status, enc.stderr).toBe(0);
    writeFileSync(join(dir, 'v.enc.json'), enc.stdout);
    const r = sb.run(['decrypt', '--output-type', 'yaml', 'v.enc.json'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.startsWith('k: |-\n')).toBe(true);
    expect(r.stdout.endsWith('    b\n')).toBe(true);
  });
});

describe('status reads key names from the config in linear time', () => {
  it('a config line crafted against the key-name pattern does not hang status', { timeout: 30_000 }, () => {
    // 16 KB: the old pattern (cubic here) needed minutes; names after `#` still show.
    const dir = repo(`notes: ${'age1'.repeat(4000)}\ncreation_rules:\n  - age: ${'RECIPIENT'} # the sandbox key\n`);
    const enc = encryptIn(dir, 's.yaml');
    writeFileSync(join(dir, 's.enc.yaml'), enc.stdout);
    const r = sb.run(['status', 's.enc.yaml'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('the sandbox key');
  });
});

describe('rotate and injected recipients', () => {
  it('warns, one line per file, when the file\'s master keys differ from its creation rule\'s, and goes on', () => {
    const dir = repo();
    const enc = encryptIn(dir, 's.yaml', ['--age', `${sb.recipient},${other.recipient}`]);
    expect(enc.status).toBe(0);
    writeFileSync(join(dir, 's.enc.yaml'), enc.stdout);
    const r = sb.run(['rotate', '-i', 's.enc.yaml'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(`tsops: warning: s.enc.yaml: master keys differ from its creation rule (${join(dir, '.sopsrc')}:2): not in the rule: ${other.recipient}; missing: none; rotate keeps them as they are, \`updatekeys\` applies the rule\n`);
    expect(readFileSync(join(dir, 's.enc.yaml'), 'utf8')).toContain(other.recipient);
    // A file that matches its rule rotates quietly.
    const clean = encryptIn(dir, 't.yaml');
    writeFileSync(join(dir, 't.enc.yaml'), clean.stdout);
    const quiet = sb.run(['rotate', '-i', 't.enc.yaml'], { cwd: dir });
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('control characters in an injected recipient are escaped in the warning', () => {
    const dir = repo();
    const enc = encryptIn(dir, 's.yaml', ['--age', `${sb.recipient},${other.recipient}`]);
    expect(enc.stdout).toContain(`recipient: ${other.recipient}`);
    writeFileSync(join(dir, 's.enc.yaml'), enc.stdout.replace(`recipient: ${other.recipient}`, `recipient: "${other.recipient}\\e[31m"`));
    const r = sb.run(['rotate', 's.enc.yaml'], { cwd: dir });
    const warning = r.stderr.split('\n')[0]!;
    expect(warning).toMatch(/^tsops: warning: s\.enc\.yaml: master keys differ/);
    expect(warning).not.toMatch(/\u001b/);
    expect(warning).toContain(`not in the rule: ${other.recipient}\\x1b[31m;`);
  });
});
