/**
 * The built CLI end to end: round trips in every format, stdin and stdout,
 * --extract, output conversion, in-place and --output writes, keygen,
 * filestatus, and every exit code these commands can produce, each with one
 * line on stderr, no stack trace and no secret text.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, TSOPS, type Sandbox } from '../support/cli.js';

const SECRET = 'hunter2-SECRET';
let box: Sandbox;
beforeAll(async () => {
  box = await sandbox();
});
afterAll(() => box.cleanup());

const file = (name: string): string => join(box.dir, name);
const write = (name: string, text: string | Buffer): string => {
  writeFileSync(file(name), text);
  return file(name);
};
const read = (name: string): string => readFileSync(file(name), 'utf8');
const modeOf = (name: string): number => statSync(file(name)).mode & 0o777;

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`tsops failed with ${r.status}: ${r.stderr}`);
  expect(r.stderr).toBe('');
  return r.stdout;
}

/** The failure contract: the exit code, nothing on stdout, one `tsops: ` line on stderr, no stack, no secret. */
function fails(r: SpawnSyncReturns<string>, code: number, message?: RegExp): string {
  expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: code });
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^tsops: [^\n]+\n$/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain(SECRET);
  if (message) expect(r.stderr).toMatch(message);
  return r.stderr;
}

const encrypt = (...args: string[]) => box.run(['encrypt', '--age', box.recipient, ...args]);
const decrypt = (...args: string[]) => box.run(['decrypt', ...args]);

const YAML = `# database settings
db:
    user: admin # the login
    password: ${SECRET}
    port: 5432
    ratio: 1.5
    enabled: true
list:
    - one
    - 2
multi: |
    line one
    line two
public_unencrypted: visible
`;
const JSON_TEXT = `{\n\t"db": {\n\t\t"password": "${SECRET}",\n\t\t"port": 5432\n\t},\n\t"list": [\n\t\t1,\n\t\t"two"\n\t],\n\t"flag": false\n}\n`;
const ENV = `# comment\nPASSWORD=${SECRET}\nPORT=5432\nEMPTY=\n`;
const INI = `; comment\n[db]\npassword = ${SECRET}\nport     = 5432\n\n[app]\nname = x\n`;

describe('round trips with a fresh age key', () => {
  it.each([
    ['secrets.yaml', YAML],
    ['secrets.json', JSON_TEXT],
    ['secrets.env', ENV],
    ['secrets.ini', INI],
  ])('%s: encrypt hides every secret, decrypt gives back the exact text', (name, text) => {
    write(name, text);
    const encrypted = ok(encrypt(file(name)));
    expect(encrypted).not.toContain(SECRET);
    expect(encrypted).toContain('ENC[AES256_GCM,data:');
    expect(encrypted).toContain(box.recipient);
    const encName = name.replace('secrets.', 'secrets.enc.');
    write(encName, encrypted);
    expect(ok(decrypt(file(encName)))).toBe(text);
  });

  it('YAML keeps its comments, key order and _unencrypted values readable in the encrypted file', () => {
    write('layout.yaml', YAML);
    const encrypted = ok(encrypt(file('layout.yaml')));
    expect(encrypted).toContain('public_unencrypted: visible');
    expect(encrypted).toMatch(/^#ENC\[AES256_GCM,.*type:comment\]\ndb:\n {4}user: ENC\[/);
    expect(encrypted).toMatch(/\nsops:\n/);
  });

  it('binary files round-trip byte for byte', () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 31) % 256));
    writeFileSync(file('blob.bin'), bytes);
    ok(encrypt('--output', file('blob.enc'), file('blob.bin')));
    expect(JSON.parse(read('blob.enc'))).toHaveProperty('data');
    ok(decrypt('--input-type', 'binary', '--output', file('blob.out'), file('blob.enc')));
    expect(readFileSync(file('blob.out')).equals(bytes)).toBe(true);
  });

  it('sops legacy spellings -e/-d and --encrypt/--decrypt work, flags before or after the file', () => {
    write('legacy.yaml', 'a: b\n');
    const enc = ok(box.run(['-e', '--age', box.recipient, file('legacy.yaml')]));
    write('legacy.enc.yaml', enc);
    expect(ok(box.run(['-d', file('legacy.enc.yaml')]))).toBe('a: b\n');
    expect(ok(box.run(['--decrypt', file('legacy.enc.yaml'), '--output-type', 'json']))).toBe('{\n\t"a": "b"\n}\n');
    expect(ok(box.run(['--encrypt', file('legacy.yaml'), '--age', box.recipient]))).toContain('a: ENC[');
  });

  it('keys come from SOPS_AGE_RECIPIENTS when no flag names one', () => {
    write('env-key.yaml', 'a: b\n');
    const r = box.run(['encrypt', file('env-key.yaml')], { env: { SOPS_AGE_RECIPIENTS: box.recipient } });
    expect(ok(r)).toContain(box.recipient);
  });

  it('rule flags choose what is encrypted', () => {
    write('rules.yaml', 'password: p\nuser: u\nhost_plain: h\n');
    const regex = ok(encrypt('--encrypted-regex', '^pass', file('rules.yaml')));
    expect(regex).toMatch(/password: ENC\[/);
    expect(regex).toContain('user: u\n');
    expect(regex).toContain('encrypted_regex: ^pass');
    const suffix = ok(encrypt('--unencrypted-suffix', '_plain', file('rules.yaml')));
    expect(suffix).toContain('host_plain: h\n');
    expect(suffix).toMatch(/user: ENC\[/);
    const macOnly = ok(encrypt('--mac-only-encrypted', '--encrypted-regex', '^pass', file('rules.yaml')));
    expect(macOnly).toContain('mac_only_encrypted: true');
    write('rules.enc.yaml', macOnly);
    expect(ok(decrypt(file('rules.enc.yaml')))).toBe('password: p\nuser: u\nhost_plain: h\n');
  });
});

describe('standard input and output', () => {
  it('encrypts and decrypts through pipes with --input-type', () => {
    const encrypted = ok(box.run(['encrypt', '--age', box.recipient, '--input-type', 'yaml'], { input: 'token: abc\n' }));
    expect(encrypted).toMatch(/^token: ENC\[/);
    expect(ok(box.run(['decrypt', '--input-type', 'yaml'], { input: encrypted }))).toBe('token: abc\n');
    expect(ok(box.run(['decrypt', '--input-type', 'yaml', '-'], { input: encrypted }))).toBe('token: abc\n');
  });

  it('--filename-override picks the format for stdin', () => {
    const encrypted = ok(box.run(['encrypt', '--age', box.recipient, '--filename-override', 'x.json'], { input: '{"k": 1}' }));
    expect(JSON.parse(encrypted)).toHaveProperty('sops');
    expect(JSON.parse(ok(box.run(['decrypt', '--filename-override', 'x.json'], { input: encrypted })))).toEqual({ k: 1 });
  });

  it('stdin with no type hint is binary', () => {
    const encrypted = ok(box.run(['encrypt', '--age', box.recipient], { input: 'a: 1\n' }));
    expect(Object.keys(JSON.parse(encrypted))).toEqual(['data', 'sops']);
    expect(ok(box.run(['decrypt'], { input: encrypted }))).toBe('a: 1\n');
  });
});

describe('--extract and output conversion', () => {
  beforeAll(() => {
    write('x.yaml', 'db:\n    password: multi\\nline\n    port: 5432\n    nested:\n        a: 1\nlist:\n    - x\n    - 7\ntext: "two\\nlines"\n');
    write('x.enc.yaml', ok(encrypt(file('x.yaml'))));
  });

  it('a string is written raw with no newline', () => {
    expect(ok(decrypt('--extract', '["db"]["password"]', file('x.enc.yaml')))).toBe('multi\\nline');
    expect(ok(decrypt('--extract', '["text"]', file('x.enc.yaml')))).toBe('two\nlines');
    expect(ok(decrypt('--extract', '["list"][0]', file('x.enc.yaml')))).toBe('x');
  });

  it('a map goes through the output format', () => {
    expect(ok(decrypt('--extract', '["db"]["nested"]', file('x.enc.yaml')))).toBe('a: 1\n');
    expect(ok(decrypt('--extract', '["db"]["nested"]', '--output-type', 'json', file('x.enc.yaml')))).toBe('{\n\t"a": 1\n}\n');
  });

  it('an int and a list use the value writers', () => {
    expect(ok(decrypt('--extract', '["db"]["port"]', file('x.enc.yaml'))).trim()).toBe('5432');
    expect(ok(decrypt('--extract', '["list"][1]', '--output-type', 'json', file('x.enc.yaml'))).trim()).toBe('7');
    expect(ok(decrypt('--extract', '["list"]', '--output-type', 'json', file('x.enc.yaml')))).toMatch(/^\[\s*"x",\s*7\s*\]\n$/);
  });

  it('a missing key is exit 1 naming the path, never a value', () => {
    fails(decrypt('--extract', '["db"]["nope"]', file('x.enc.yaml')), 1, /x\.enc\.yaml: key not found: \["db"\]\["nope"\]\n$/);
    fails(decrypt('--extract', '["list"][9]', file('x.enc.yaml')), 1, /key not found: \["list"\]\[9\]/);
  });

  it('a bad path is exit 91', () => {
    fails(decrypt('--extract', 'db.password', file('x.enc.yaml')), 91, /invalid tree path/);
    fails(decrypt('--extract', '["db"', file('x.enc.yaml')), 91);
  });

  it('--output-type json converts a YAML file, --indent sets the indent', () => {
    const json = ok(decrypt('--output-type', 'json', file('x.enc.yaml')));
    expect(JSON.parse(json)).toEqual({ db: { password: 'multi\\nline', port: 5432, nested: { a: 1 } }, list: ['x', 7], text: 'two\nlines' });
    expect(ok(decrypt('--output-type', 'json', '--indent', '2', file('x.enc.yaml')))).toMatch(/^\{\n {2}"db": \{\n {4}"password"/);
  });

  it('encrypt --output-type json writes an encrypted JSON file that decrypts to the same data', () => {
    write('conv.enc.json', ok(encrypt('--output-type', 'json', file('x.yaml'))));
    const back = JSON.parse(ok(decrypt(file('conv.enc.json'))));
    expect(back.db.nested).toEqual({ a: 1 });
  });
});

describe('writing files', () => {
  it('-i encrypts in place, keeps the mode and leaves no temp file', () => {
    write('inplace.yaml', `key: ${SECRET}\n`);
    chmodSync(file('inplace.yaml'), 0o640);
    const before = readdirSync(box.dir).length;
    expect(ok(encrypt('-i', file('inplace.yaml')))).toBe('');
    expect(read('inplace.yaml')).toMatch(/^key: ENC\[/);
    expect(modeOf('inplace.yaml')).toBe(0o640);
    expect(readdirSync(box.dir).length).toBe(before);
    expect(ok(decrypt('--in-place', file('inplace.yaml')))).toBe('');
    expect(read('inplace.yaml')).toBe(`key: ${SECRET}\n`);
    expect(modeOf('inplace.yaml')).toBe(0o640);
  });

  it('--output writes a new encrypted file 0644 and a new plaintext file 0600', () => {
    write('out.yaml', 'a: 1\n');
    expect(ok(encrypt('--output', file('out.enc.yaml'), file('out.yaml')))).toBe('');
    expect(modeOf('out.enc.yaml')).toBe(0o644);
    expect(ok(decrypt('--output', file('out.plain.yaml'), file('out.enc.yaml')))).toBe('');
    expect(read('out.plain.yaml')).toBe('a: 1\n');
    expect(modeOf('out.plain.yaml')).toBe(0o600);
  });

  it('a failed encryption leaves the in-place target untouched', () => {
    write('untouched.yaml', 'a: [\n');
    fails(encrypt('-i', file('untouched.yaml')), 2);
    expect(read('untouched.yaml')).toBe('a: [\n');
  });
});

describe('exit codes', () => {
  beforeAll(() => {
    write('good.yaml', `password: ${SECRET}\nnote_unencrypted: hello\nport: 1\n`);
    write('good.enc.yaml', ok(encrypt(file('good.yaml'))));
  });

  it('1: no keys to encrypt for, naming the file', () => {
    const message = fails(box.run(['encrypt', file('good.yaml')]), 1, /no keys to encrypt/);
    expect(message).toContain('good.yaml');
  });

  it('1: decrypting a file with no sops metadata', () => {
    fails(decrypt(file('good.yaml')), 1, /good\.yaml: sops metadata not found/);
  });

  it('2: invalid plaintext input, with line and column', () => {
    write('bad.yaml', `a: [${SECRET}\n`);
    fails(encrypt(file('bad.yaml')), 2, /bad\.yaml: .*line \d+/);
    write('bad.json', `{"a": "${SECRET}"`);
    fails(encrypt(file('bad.json')), 2, /bad\.json: /);
  });

  it('3: the output cannot be written', () => {
    fails(encrypt('--output', file('no/such/dir/out.yaml'), file('good.yaml')), 3, /out\.yaml: cannot write/);
    fails(decrypt('--output', box.dir, file('good.enc.yaml')), 3);
  });

  it('4: the tree cannot be written in the output format', () => {
    write('nested.yaml', 'a:\n    b: c\nl:\n    - 1\n');
    write('nested.enc.yaml', ok(encrypt(file('nested.yaml'))));
    fails(decrypt('--output-type', 'dotenv', file('nested.enc.yaml')), 4, /nested\.enc\.yaml: /);
    fails(decrypt('--output-type', 'binary', file('nested.enc.yaml')), 4, /nested\.enc\.yaml: /);
    expect(ok(decrypt('--extract', '["a"]', '--output-type', 'dotenv', file('nested.enc.yaml')))).toBe('b=c\n');
    fails(decrypt('--extract', '["l"]', '--output-type', 'dotenv', file('nested.enc.yaml')), 4, /nested\.enc\.yaml: /);
  });

  it('6: a malformed --encryption-context', () => {
    fails(encrypt('--encryption-context', 'nocolon', file('good.yaml')), 6);
  });

  it('8: conflicting parameters', () => {
    fails(encrypt('-i', '--output', file('o.yaml'), file('good.yaml')), 8);
    fails(box.run(['encrypt', '--age', box.recipient, '-i', '--input-type', 'yaml'], { input: 'a: 1\n' }), 8);
    fails(decrypt('-i', '--input-type', 'yaml'), 8);
    fails(encrypt('--encrypted-regex', 'a', '--unencrypted-suffix', '_x', file('good.yaml')), 8);
  });

  it('25: a tampered value, naming its path', () => {
    const text = read('good.enc.yaml').replace(/^port: ENC\[AES256_GCM,data:([A-Za-z0-9+/])/m, (_m, c: string) => `port: ENC[AES256_GCM,data:${c === 'A' ? 'B' : 'A'}`);
    write('tampered.enc.yaml', text);
    fails(decrypt(file('tampered.enc.yaml')), 25, /tampered\.enc\.yaml: .*\["port"\]/);
  });

  it('51: a changed unencrypted value breaks the MAC; --ignore-mac reads it anyway', () => {
    write('macbroken.enc.yaml', read('good.enc.yaml').replace('note_unencrypted: hello', 'note_unencrypted: changed'));
    fails(decrypt(file('macbroken.enc.yaml')), 51, /macbroken\.enc\.yaml: MAC mismatch/);
    expect(ok(decrypt('--ignore-mac', file('macbroken.enc.yaml')))).toContain('note_unencrypted: changed');
  });

  it('91: a bad --extract path', () => {
    fails(decrypt('--extract', '[x]', file('good.enc.yaml')), 91);
  });

  it('92: nothing to encrypt', () => {
    write('empty.yaml', '');
    fails(encrypt(file('empty.yaml')), 92, /empty\.yaml: /);
  });

  it('100: a missing file', () => {
    fails(decrypt(file('missing.yaml')), 100, /missing\.yaml: no such file/);
    fails(encrypt(file('missing.yaml')), 100);
  });

  it('112: a key type repeated in the decryption order, from the flag or SOPS_DECRYPTION_ORDER', () => {
    fails(decrypt('--decryption-order', 'age,pgp,age', file('good.enc.yaml')), 112);
    fails(box.run(['decrypt', file('good.enc.yaml')], { env: { SOPS_DECRYPTION_ORDER: 'pgp,pgp' } }), 112);
  });

  it('128: no identity for any of the file’s keys, naming the recipient', () => {
    const other = join(box.dir, 'other-keys.txt');
    ok({ ...box.run(['keygen', '--output', other]), stderr: '' });
    fails(box.run(['decrypt', file('good.enc.yaml')], { env: { SOPS_AGE_KEY_FILE: other } }), 128, new RegExp(box.recipient));
  });

  it('203: encrypting an encrypted file', () => {
    fails(encrypt(file('good.enc.yaml')), 203, /good\.enc\.yaml: file already encrypted/);
  });

  it('an unknown option or command is exit 1 on one line', () => {
    fails(box.run(['decrypt', '--bogus', file('good.enc.yaml')]), 1, /unknown option/);
    fails(box.run(['encrypt', '--output-type', 'toml', file('good.yaml')]), 1, /--output-type/);
  });
});

describe('filestatus', () => {
  beforeAll(() => {
    write('fs.yaml', 'a: 1\n');
    write('fs.enc.yaml', ok(encrypt(file('fs.yaml'))));
  });

  it('prints {"encrypted":true|false} for one file, exactly as sops', () => {
    expect(ok(box.run(['filestatus', file('fs.enc.yaml')]))).toBe('{"encrypted":true}\n');
    expect(ok(box.run(['filestatus', file('fs.yaml')]))).toBe('{"encrypted":false}\n');
  });

  it('prints an array for several files or with --json', () => {
    expect(JSON.parse(ok(box.run(['filestatus', file('fs.enc.yaml'), file('fs.yaml')])))).toEqual([
      { file: file('fs.enc.yaml'), encrypted: true },
      { file: file('fs.yaml'), encrypted: false },
    ]);
    expect(JSON.parse(ok(box.run(['filestatus', '--json', file('fs.yaml')])))).toEqual([{ file: file('fs.yaml'), encrypted: false }]);
  });

  it('an unparseable file is not encrypted; a missing or unreadable one is an error', () => {
    write('fs-bad.yaml', 'a: [\n');
    expect(ok(box.run(['filestatus', file('fs-bad.yaml')]))).toBe('{"encrypted":false}\n');
    fails(box.run(['filestatus', file('fs-missing.yaml')]), 100, /fs-missing\.yaml/);
    fails(box.run(['filestatus', box.dir]), 2);
  });
});

describe('keygen', () => {
  it('creates the default keys file 0600, prints the recipient, names the file on stderr', () => {
    const keysFile = join(box.dir, '.config', 'sops', 'age', 'keys.txt');
    expect(existsSync(keysFile)).toBe(false);
    const r = box.run(['keygen'], { env: { SOPS_AGE_KEY_FILE: '' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^age1[a-z0-9]{58}\n$/);
    expect(r.stderr).toContain(keysFile);
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    const contents = readFileSync(keysFile, 'utf8');
    expect(contents).toContain(r.stdout.trim());
    expect(contents).toMatch(/^AGE-SECRET-KEY-1[A-Z0-9]+$/m);
  });

  it('writes where decryption will look: $SOPS_AGE_KEY_FILE when set', () => {
    const keysFile = join(box.dir, 'env-keys.txt');
    const r = box.run(['keygen'], { env: { SOPS_AGE_KEY_FILE: keysFile } });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(keysFile);
    const recipient = r.stdout.trim();
    expect(readFileSync(keysFile, 'utf8')).toContain(recipient);
    write('kg-env.yaml', 'a: b\n');
    write('kg-env.enc.yaml', ok(box.run(['encrypt', '--age', recipient, file('kg-env.yaml')])));
    expect(ok(box.run(['decrypt', file('kg-env.enc.yaml')], { env: { SOPS_AGE_KEY_FILE: keysFile } }))).toBe('a: b\n');
  });

  it('appends to an existing keys file and the new key decrypts what was encrypted for it', () => {
    const keysFile = join(box.dir, 'more-keys.txt');
    const first = box.run(['keygen', '--output', keysFile]).stdout.trim();
    const second = box.run(['keygen', '--output', keysFile]).stdout.trim();
    expect(first).not.toBe(second);
    expect(readFileSync(keysFile, 'utf8').match(/^AGE-SECRET-KEY-1/gm)).toHaveLength(2);
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    write('kg.yaml', 'a: b\n');
    write('kg.enc.yaml', ok(box.run(['encrypt', '--age', first, file('kg.yaml')])));
    expect(ok(box.run(['decrypt', file('kg.enc.yaml')], { env: { SOPS_AGE_KEY_FILE: keysFile } }))).toBe('a: b\n');
  });

  it('an unwritable keys file location is an error on one line', () => {
    write('a-file', 'x');
    const r = box.run(['keygen', '--output', join(box.dir, 'a-file', 'keys.txt')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^tsops: [^\n]+\n$/);
    expect(r.stdout).toBe('');
  });
});

describe('.sopsrc.example', () => {
  it('is a valid config: its catch-all rule encrypts for its recipient with its settings', () => {
    write('from-example.yaml', 'a:\n    b: c\n');
    const example = join(import.meta.dirname, '..', '..', '.sopsrc.example');
    const encrypted = ok(box.run(['encrypt', '--config', example, file('from-example.yaml')]));
    expect(encrypted).toContain('age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep');
    expect(encrypted).toContain('mac_only_encrypted: true');
    expect(encrypted).toMatch(/^a:\n +b: ENC\[/);
  });
});

describe('standard output that goes away', () => {
  beforeAll(() => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `k${i}: v${i}`).join('\n');
    write('big.yaml', `${lines}\n`);
    ok(encrypt('--output', file('big.enc.yaml'), file('big.yaml')));
  });

  it('a reader that stops early is not an error: no message, exit 0', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${TSOPS}" decrypt big.enc.yaml | head -c 6; echo " status=\${PIPESTATUS[0]}"`], { cwd: box.dir, env: box.env, encoding: 'utf8' });
    expect(r.stdout).toBe('k0: v0 status=0\n');
    expect(r.stderr).toBe('');
  });

  it.skipIf(!existsSync('/dev/full'))('a full device is exit 3 with one line, for streamed and short output', () => {
    for (const args of [['decrypt', 'big.enc.yaml'], ['filestatus', 'big.enc.yaml'], ['--version']]) {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${TSOPS}" ${args.join(' ')} > /dev/full`], { cwd: box.dir, env: box.env, encoding: 'utf8' });
      expect(r.status).toBe(3);
      expect(r.stderr).toBe('tsops: cannot write to standard output (ENOSPC)\n');
    }
  });

  it.skipIf(spawnSync('python3', ['--version']).status !== 0)('a non-blocking pipe that fills up (EAGAIN) still gets the whole output', () => {
    // python3 marks the pipe non-blocking, then becomes tsops; the reader starts late, so the pipe fills.
    const setNonBlocking = 'import fcntl, os, sys; fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK); os.execv(sys.argv[1], sys.argv[1:])';
    const r = spawnSync('bash', ['-c', `python3 -c '${setNonBlocking}' "${process.execPath}" "${TSOPS}" decrypt big.enc.yaml | (sleep 0.5; cat)`], { cwd: box.dir, env: box.env, encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(file('big.yaml'), 'utf8'));
  });
});
