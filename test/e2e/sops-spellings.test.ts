/** sops's command-line spellings: set/unset as in sops 3.10+, legacy top-level flags, groups, unknown words, --version. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FAKE_EDITOR as EDITOR, sandbox, TSOPS, type Sandbox } from '../support/cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';

let sb: Sandbox;
let n = 0;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

const PLAIN = 'db:\n    user: admin\n    password: hunter2\nport: 5432\n';

/** A fresh encrypted YAML file in the sandbox; returns its name (relative to the sandbox). */
function encrypted(text = PLAIN): string {
  const name = `f${++n}.yaml`;
  writeFileSync(join(sb.dir, `p${n}.yaml`), text);
  const r = sb.run(['encrypt', '--age', sb.recipient, '--output', name, `p${n}.yaml`]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return name;
}

const read = (name: string): string => readFileSync(join(sb.dir, name), 'utf8');
const plain = (name: string, ...flags: string[]): Record<string, unknown> => JSON.parse(sb.run(['decrypt', '--output-type', 'json', ...flags, name]).stdout);
const macOf = (text: string): string => /mac: (ENC\[[^\]]+\])/.exec(text)![1]!;

describe('set --value-file / --value-stdin (switches, as in sops)', () => {
  it('--value-file makes the third argument the file holding the value', () => {
    const f = encrypted();
    writeFileSync(join(sb.dir, 'value.json'), '{"nested": [1, 2]}');
    const r = sb.run(['set', '--value-file', f, '["obj"]', 'value.json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(plain(f)['obj']).toEqual({ nested: [1, 2] });
    // The file's name is not mistaken for the value, nor the value for a file.
    expect(existsSync(join(sb.dir, '{"nested": [1, 2]}'))).toBe(false);
  });

  it('--value-file with a missing value file fails naming it, file untouched', () => {
    const f = encrypted();
    const before = read(f);
    const r = sb.run(['set', '--value-file', f, '["obj"]', 'nope.json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tsops: nope\.json: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(read(f)).toBe(before);
  });

  it('--value-stdin reads the value from stdin and takes no third argument', () => {
    const f = encrypted();
    expect(sb.run(['set', '--value-stdin', f, '["db"]["password"]'], { input: '"from-stdin"' }).status).toBe(0);
    expect((plain(f)['db'] as Record<string, string>)['password']).toBe('from-stdin');
    const extra = sb.run(['set', '--value-stdin', f, '["db"]["password"]', '"x"'], { input: '"y"' });
    expect(extra.status).toBe(100);
    const both = sb.run(['set', '--value-stdin', '--value-file', f, '["a"]', 'v.json']);
    expect(both.status).toBe(1);
    expect(both.stderr).toContain('mutually exclusive');
  });

  it('missing arguments are sops exit 100', () => {
    const f = encrypted();
    expect(sb.run(['set', f, '["a"]']).status).toBe(100);
    expect(sb.run(['set', f]).status).toBe(100);
  });
});

describe('set/unset --idempotent and --output-type (sops 3.10+)', () => {
  it('without --idempotent, set of the same value still rewrites the file (new lastmodified and MAC)', () => {
    const f = encrypted();
    const before = read(f);
    // lastmodified has one-second resolution: wait (bounded) until a rewrite must change it.
    const stamp = /lastmodified: "?([^"\n]+)/.exec(before)![1]!;
    for (let i = 0; i < 400 && new Date().toISOString().slice(0, 19) <= stamp.slice(0, 19); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    expect(sb.run(['set', f, '["port"]', '5432']).status).toBe(0);
    const after = read(f);
    expect(macOf(after)).not.toBe(macOf(before));
    expect(/lastmodified: "?([^"\n]+)/.exec(after)![1]).not.toBe(stamp);
    expect(plain(f)['port']).toBe(5432);
  });

  it('with --idempotent, a set that changes nothing writes nothing and exits 0', () => {
    const f = encrypted();
    const before = read(f);
    const r = sb.run(['set', '--idempotent', f, '["port"]', '5432']);
    expect(r.status).toBe(0);
    expect(read(f)).toBe(before);
    expect(sb.run(['set', '--idempotent', f, '["port"]', '5433']).status).toBe(0);
    expect(plain(f)['port']).toBe(5433);
  });

  it('unset of a missing key fails (exit 1, one line) unless --idempotent, which writes nothing', () => {
    const f = encrypted();
    const before = read(f);
    const r = sb.run(['unset', f, '["nope"]']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tsops: f\d+\.yaml: key not found: \["nope"\]\n$/);
    const ok = sb.run(['unset', '--idempotent', f, '["nope"]']);
    expect(ok.status).toBe(0);
    expect(read(f)).toBe(before);
  });

  it('--output-type rewrites the file in that format (set and unset)', () => {
    const f = encrypted();
    expect(sb.run(['set', '--output-type', 'json', f, '["extra"]', 'true']).status).toBe(0);
    const json = JSON.parse(read(f));
    expect(json.sops.mac).toMatch(/^ENC\[/);
    expect(plain(f, '--input-type', 'json')).toEqual({ db: { user: 'admin', password: 'hunter2' }, port: 5432, extra: true });
    const g = encrypted();
    expect(sb.run(['unset', '--output-type', 'json', g, '["port"]']).status).toBe(0);
    expect(plain(g, '--input-type', 'json')).toEqual({ db: { user: 'admin', password: 'hunter2' } });
  });
});

describe('legacy top-level spellings', () => {
  const legacy: [string, (f: string) => string[], (f: string, r: ReturnType<Sandbox['run']>) => void][] = [
    ['-d FILE', (f) => ['-d', f], (_, r) => expect(r.stdout).toBe(PLAIN)],
    ['--disable-version-check -d FILE', (f) => ['--disable-version-check', '-d', f], (_, r) => expect(r.stdout).toBe(PLAIN)],
    ['decrypt --enable-local-keyservice FILE', (f) => ['decrypt', '--enable-local-keyservice', f], (_, r) => expect(r.stdout).toBe(PLAIN)],
    ['--decrypt FILE', (f) => ['--decrypt', f], (_, r) => expect(r.stdout).toBe(PLAIN)],
    ['--decrypt --extract PATH FILE', (f) => ['--decrypt', '--extract', '["db"]["password"]', f], (_, r) => expect(r.stdout).toBe('hunter2')],
    ['-d --output-type json FILE', (f) => ['-d', '--output-type', 'json', f], (_, r) => expect(JSON.parse(r.stdout)['port']).toBe(5432)],
    ['-d -i FILE', (f) => ['-d', '-i', f], (f) => expect(read(f)).toBe(PLAIN)],
    ['--decrypt --output OUT FILE', (f) => ['--decrypt', '--output', `${f}.out`, f], (f) => expect(read(`${f}.out`)).toBe(PLAIN)],
    ['-r -i FILE', (f) => ['-r', '-i', f], (f) => expect(plain(f)['port']).toBe(5432)],
    ['--rotate --in-place FILE', (f) => ['--rotate', '--in-place', f], (f) => expect(plain(f)['port']).toBe(5432)],
    ['--set \'PATH VALUE\' FILE (writes in place, as sops)', (f) => ['--set', '["port"] 1', f], (f) => expect(plain(f)['port']).toBe(1)],
    ['--set \'PATH VALUE\' -i FILE', (f) => ['--set', '["db"]["user"] "root"', '-i', f], (f) => expect((plain(f)['db'] as Record<string, string>)['user']).toBe('root')],
    ['-i --set \'PATH VALUE\' FILE', (f) => ['-i', '--set', '["new"] {"a":1}', f], (f) => expect(plain(f)['new']).toEqual({ a: 1 })],
  ];
  it.each(legacy)('%s', (_, args, check) => {
    const f = encrypted();
    const r = sb.run(args(f));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    check(f, r);
  });

  it('-e FILE, -e -i FILE, -i -e FILE, -a RECIPIENT, --encrypt --output OUT FILE', () => {
    const write = (): string => {
      const name = `plain${++n}.yaml`;
      writeFileSync(join(sb.dir, name), PLAIN);
      return name;
    };
    const a = write();
    const out = sb.run(['-e', '--age', sb.recipient, a]);
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^sops:$/m);
    for (const args of [['-e', '-i', '-a', sb.recipient], ['-i', '-e', '--age', sb.recipient], ['--encrypt', '--in-place', '-a', sb.recipient]]) {
      const f = write();
      const r = sb.run([...args, f]);
      expect(r.status, args.join(' ')).toBe(0);
      expect(read(f)).toMatch(/^sops:$/m);
      expect(sb.run(['-d', f]).stdout).toBe(PLAIN);
    }
    const f = write();
    expect(sb.run(['--encrypt', '--age', sb.recipient, '--output', `${f}.enc`, f]).status).toBe(0);
    expect(sb.run(['-d', '--input-type', 'yaml', `${f}.enc`]).stdout).toBe(PLAIN);
  });

  it('--add-age without --rotate is refused on one line (sops would open the editor and ignore it)', () => {
    const f = encrypted();
    const before = read(f);
    const marker = join(sb.dir, 'editor-add-age');
    const r = sb.run(['--add-age', sb.recipient, '-i', f], { env: { EDITOR, FAKE_EDITOR_LOG: marker } });
    expect(r.status).toBe(8);
    expect(r.stderr).toBe('tsops: --add-age changes master keys only with --rotate: tsops -r -i --add-age ... FILE\n');
    expect(existsSync(marker)).toBe(false);
    expect(read(f)).toBe(before);
  });

  it('--rotate --add-age / --rm-age -i FILE change the master keys', async () => {
    const other = await throwawayAgeKey();
    const f = encrypted();
    expect(sb.run(['--rotate', '--add-age', other.recipient, '-i', f]).status).toBe(0);
    expect(read(f)).toContain(other.recipient);
    expect(sb.run(['-r', '--rm-age', other.recipient, '-i', f]).status).toBe(0);
    expect(read(f)).not.toContain(other.recipient);
    expect(plain(f)['port']).toBe(5432);
  });
});

describe('groups add / delete', () => {
  it('add puts a new key group (threshold = groups) without touching values or MAC; delete removes it', async () => {
    const other = await throwawayAgeKey();
    const bothKeys = join(sb.dir, 'both-keys.txt');
    writeFileSync(bothKeys, `${sb.identity}\n${other.identity}\n`, { mode: 0o600 });
    const otherOnly = join(sb.dir, 'other-key.txt');
    writeFileSync(otherOnly, `${other.identity}\n`, { mode: 0o600 });
    const f = encrypted();
    const before = read(f);

    // Without -i the result goes to stdout and the file stays.
    const printed = sb.run(['groups', 'add', '--file', f, '--age', other.recipient]);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toContain(other.recipient);
    expect(read(f)).toBe(before);

    expect(sb.run(['groups', 'add', '--file', f, '--age', other.recipient, '-i']).status).toBe(0);
    const two = read(f);
    expect(two).toMatch(/shamir_threshold: 2/);
    expect(macOf(two)).toBe(macOf(before));
    expect(two.split('\n').filter((l) => /ENC\[/.test(l) && !/mac:/.test(l))).toEqual(before.split('\n').filter((l) => /ENC\[/.test(l) && !/mac:/.test(l)));
    // Both groups are needed now: either key alone fails, both together decrypt.
    expect(sb.run(['-d', f]).status).toBe(128);
    expect(sb.run(['-d', f], { env: { SOPS_AGE_KEY_FILE: otherOnly } }).status).toBe(128);
    expect(sb.run(['-d', f], { env: { SOPS_AGE_KEY_FILE: bothKeys } }).stdout).toBe(PLAIN);

    // Delete group 0 (the sandbox key): as in sops, the threshold of 2 must be lowered first; then the other key alone reads it.
    const unmeetable = sb.run(['groups', 'delete', '-f', f, '-i', '0'], { env: { SOPS_AGE_KEY_FILE: bothKeys } });
    expect(unmeetable.status).toBe(1);
    expect(unmeetable.stderr).toMatch(/Shamir threshold \(2\) would be more than the 1 key group/);
    expect(read(f)).toBe(two);
    expect(sb.run(['groups', 'delete', '-f', f, '-i', '--shamir-secret-sharing-threshold', '1', '0'], { env: { SOPS_AGE_KEY_FILE: bothKeys } }).status).toBe(0);
    const one = read(f);
    expect(one).not.toContain(sb.recipient);
    expect(one).not.toMatch(/shamir_threshold/);
    expect(sb.run(['-d', f], { env: { SOPS_AGE_KEY_FILE: otherOnly } }).stdout).toBe(PLAIN);
  });

  it('bad uses fail on one line with the file untouched', async () => {
    const other = await throwawayAgeKey();
    const f = encrypted();
    const before = read(f);
    const cases: [string[], number, RegExp][] = [
      [['groups', 'delete', '-f', f, '-i', '3'], 1, /no key group 3/],
      [['groups', 'delete', '-f', f, '-i', '0'], 1, /only key group/],
      [['groups', 'delete', '-f', f, '-i', 'x'], 1, /whole number/],
      [['groups', 'delete', '-f', f, '-i'], 1, /exactly one/],
      [['groups', 'add', '-f', f, '-i'], 1, /at least one key/],
      [['groups', 'add', '-f', f, '-i', '--age', other.recipient, '--shamir-secret-sharing-threshold', '3'], 1, /threshold/],
      [['groups', 'add', '-i', '--age', other.recipient], 100, /--file/],
      [['groups', 'add', '-f', 'missing.yaml', '-i', '--age', other.recipient], 100, /missing\.yaml: no such file/],
    ];
    for (const [args, code, message] of cases) {
      const r = sb.run(args);
      expect(r.status, args.join(' ')).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(read(f)).toBe(before);
    }
  });
});

describe('unknown words are not new files', () => {
  it('a sops command tsops lacks gets a one-line error, no editor, no file', () => {
    const r = sb.run(['keyservice'], { env: { EDITOR: 'false' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tsops: "keyservice" is a sops command that tsops does not have (see tsops --help)\n');
    expect(existsSync(join(sb.dir, 'keyservice'))).toBe(false);
  });

  it('a bare missing FILE without a known extension fails without a terminal (exit 100, one line)', () => {
    const marker = join(sb.dir, 'editor-ran');
    for (const word of ['pubish', 'secrets']) {
      const r = sb.run([word], { env: { EDITOR, FAKE_EDITOR_LOG: marker } });
      expect(r.status, word).toBe(100);
      expect(r.stderr).toMatch(new RegExp(`^tsops: ${word}: no such file [^\\n]*\\n$`));
      expect(existsSync(join(sb.dir, word))).toBe(false);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it.skipIf(spawnSync('script', ['--version']).status !== 0)('on a terminal it asks: y creates the file, anything else does not', () => {
    const env = { ...sb.env, EDITOR, FAKE_EDITOR_LOG: join(sb.dir, 'editor-tty.log'), FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'write', content: 'key material\n' }]) };
    const onTerminal = (word: string, answer: string) =>
      spawnSync('script', ['-qec', `"${process.execPath}" "${TSOPS}" --age ${sb.recipient} ${word}`, '/dev/null'], { cwd: sb.dir, env, input: answer, encoding: 'utf8', timeout: 60_000 });
    const no = onTerminal('declined', 'n\n');
    expect(no.stdout).toContain('create it as a new encrypted file? [y/N]');
    expect(no.status).toBe(100);
    expect(existsSync(join(sb.dir, 'declined'))).toBe(false);
    const yes = onTerminal('accepted', 'y\n');
    expect(yes.status).toBe(0);
    expect(JSON.parse(read('accepted')).data).toMatch(/^ENC\[/);
    expect(sb.run(['-d', 'accepted']).stdout).toBe('key material\n');
  });

  it('a bare existing file, or a new file with a known extension, still opens the editor', () => {
    const marker = join(sb.dir, 'editor-ran-2');
    const env = { EDITOR, FAKE_EDITOR_LOG: marker, FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'write', content: 'a: 1\n' }]) };
    const r = sb.run(['--age', sb.recipient, 'brand-new.yaml'], { env });
    expect(r.stderr).toBe('');
    expect(existsSync(marker)).toBe(true);
    expect(read('brand-new.yaml')).toMatch(/^sops:$/m);
    const f = encrypted();
    expect(sb.run([f], { env: { ...env, FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'replace', from: 'hunter2', to: 'swordfish' }]) } }).status).toBe(0);
    expect(sb.run(['-d', '--extract', '["db"]["password"]', f]).stdout).toBe('swordfish');
  });
});

describe('--version', () => {
  it('prints tsops\'s version, then the sops format version it writes (the metadata version field)', () => {
    const r = sb.run(['--version']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d+\.\d+\.\d+/);
    const f = encrypted();
    const version = /^ {4}version: (\S+)$/m.exec(read(f))![1];
    expect(lines[1]).toBe(`sops format ${version}`);
    expect(sb.run(['-v']).stdout).toBe(r.stdout);
    expect(sb.run(['--disable-version-check', '--version']).stdout).toBe(r.stdout);
  });
});
