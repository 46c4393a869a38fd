/**
 * Strict input formats through the built CLI: text that is not the format is
 * an error (never copied through in plaintext), encrypted files decrypt
 * whatever their name, and YAML block scalars at the end of a file read as
 * go-yaml reads them.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpawnSyncReturns } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTEROP, ROOT, sandbox, type Sandbox } from '../support/cli.js';

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

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`tsops failed with ${r.status}: ${r.stderr}`);
  expect(r.stderr).toBe('');
  return r.stdout;
}

/** Exit code, nothing on stdout, one `tsops: FILE: ` line on stderr, no secret. */
function fails(r: SpawnSyncReturns<string>, code: number, message: RegExp): void {
  expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: code });
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^tsops: [^\n]+: [^\n]+\n$/);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toContain(SECRET);
  expect(r.stderr).not.toContain('evil');
}

const encrypt = (name: string, ...flags: string[]): string => ok(box.run(['encrypt', '--age', box.recipient, ...flags, file(name)]));

describe('input that is not the format is an error, never copied through', () => {
  it('JSON with a second object after the first: encrypt exits 2 and writes nothing', () => {
    write('two.json', `{"a": "${SECRET}"}\n{"b": "evil"}\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('two.json')]), 2, /two\.json: invalid JSON at line 2, column 1: unexpected text after the top-level object/);
    fails(box.run(['encrypt', '-i', '--age', box.recipient, file('two.json')]), 2, /unexpected text after the top-level object/);
    expect(read('two.json')).toBe(`{"a": "${SECRET}"}\n{"b": "evil"}\n`);
  });

  it('an encrypted JSON file with an object appended does not decrypt (exit 1, nothing printed)', () => {
    write('one.json', `{"a": "${SECRET}"}\n`);
    const enc = encrypt('one.json');
    write('tampered.json', enc + '{"b": "evil"}\n');
    fails(box.run(['decrypt', file('tampered.json')]), 1, /tampered\.json: invalid JSON at line \d+, column 1: unexpected text after the top-level object/);
    fails(box.run(['decrypt', '--extract', '["a"]', file('tampered.json')]), 1, /unexpected text/);
    // Every reader of an encrypted file says the same: set, rotate, edit, exec-env; filestatus says not encrypted.
    for (const args of [['set', file('tampered.json'), '["a"]', '"x"'], ['rotate', file('tampered.json')], ['edit', file('tampered.json')], ['exec-env', file('tampered.json'), 'true']]) {
      fails(box.run(args, { env: { EDITOR: 'true' } }), 1, /tampered\.json: invalid JSON at line \d+, column 1: unexpected text after the top-level object/);
    }
    expect(ok(box.run(['filestatus', file('tampered.json')]))).toBe('{"encrypted":false}\n');
    // Trailing whitespace is still JSON.
    write('spaced.json', enc + '\n \t\n');
    expect(JSON.parse(ok(box.run(['decrypt', file('spaced.json')])))).toEqual({ a: SECRET });
  });

  it('a YAML line starting with % that is not a go-yaml directive: exit 2, nothing written', () => {
    write('dir.yaml', `%${SECRET}\n---\na: b\n`);
    fails(box.run(['encrypt', '-i', '--age', box.recipient, file('dir.yaml')]), 2, /dir\.yaml: invalid YAML at line 1, column 1: unknown directive/);
    expect(read('dir.yaml')).toBe(`%${SECRET}\n---\na: b\n`);
    write('v12.yaml', `%YAML 1.2\n---\na: ${SECRET}\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('v12.yaml')]), 2, /incompatible YAML version/);
    write('nodoc.yaml', `%YAML 1.1\na: ${SECRET}\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('nodoc.yaml')]), 2, /a directive must be followed by ---/);
  });

  it('valid directives (%YAML 1.1, %TAG) are kept as structure; every value is encrypted', () => {
    write('ok.yaml', `%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\na: ${SECRET}\n`);
    const enc = encrypt('ok.yaml');
    expect(enc.startsWith('%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\na: ENC[')).toBe(true);
    expect(enc).not.toContain(SECRET);
    write('ok.enc.yaml', enc);
    expect(ok(box.run(['decrypt', file('ok.enc.yaml')]))).toBe(`%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\na: ${SECRET}\n`);
  });

  it('a directive planted in an encrypted YAML file makes it malformed (exit 1)', () => {
    write('plain.yaml', `a: ${SECRET}\n`);
    const enc = encrypt('plain.yaml');
    write('planted.yaml', '%EVIL evil\n---\n' + enc);
    fails(box.run(['decrypt', file('planted.yaml')]), 1, /planted\.yaml: invalid YAML at line 1, column 1: unknown directive/);
  });

  it('dotenv and INI lines that are neither data nor comments are errors', () => {
    write('bad.env', `A=${SECRET}\njust some words\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('bad.env')]), 2, /bad\.env: invalid dotenv at line 2: expected KEY=VALUE/);
    write('bad.ini', `[s]\na = ${SECRET}\njust some words\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('bad.ini')]), 2, /bad\.ini: invalid INI at line 3: expected key = value/);
    write('good.env', `A=${SECRET}\n`);
    write('planted.env', encrypt('good.env') + 'evil words\n');
    fails(box.run(['decrypt', file('planted.env')]), 1, /planted\.env: invalid dotenv at line \d+: expected KEY=VALUE/);
  });
});

describe('a YAML block scalar that ends the file without a line break', () => {
  it.each([
    ['|', 'multi\nline'], ['|-', 'multi\nline'], ['|+', 'multi\nline'],
    ['>', 'multi line'], ['>-', 'multi line'], ['>+', 'multi line'],
  ])('a: %s carries the value go-yaml reads, through encrypt, --extract and conversion', (indicator, want) => {
    write('block.yaml', `a: ${indicator}\n  multi\n  line`);
    const enc = encrypt('block.yaml');
    // The metadata follows on the next line, as sops writes it (no blank line left by the removed block).
    expect(enc).toMatch(/^a: ENC\[AES256_GCM,[^\n]*\]\nsops:\n/);
    write('block.enc.yaml', enc);
    expect(ok(box.run(['decrypt', '--extract', '["a"]', file('block.enc.yaml')]))).toBe(want);
    expect(ok(box.run(['decrypt', file('block.enc.yaml')]))).toBe(want.includes('\n') ? 'a: |-\n    multi\n    line\n' : `a: ${want}\n`);
    const json = ok(box.run(['decrypt', '--output-type', 'json', file('block.enc.yaml')]));
    expect(JSON.parse(json)).toEqual({ a: want });
  });
});

describe('every sops file decrypts, whatever its name', () => {
  const ENV_TEXT = `DB_PASSWORD=${SECRET}\nPORT=5432\n`;
  /** What sops writes for `.env.production` or `secrets`: the binary store, a JSON envelope. */
  const sopsBinary = (name: string): string => {
    write('plain.txt', ENV_TEXT);
    const enc = ok(box.run(['encrypt', '--age', box.recipient, '--input-type', 'binary', '--output-type', 'json', file('plain.txt')]));
    expect(enc).toMatch(/^\{\n\t"data": "ENC\[AES256_GCM,/);
    return write(name, enc);
  };

  it.each(['.env.production', 'secrets', 'config.prod'])('%s in the binary store: decrypt, quietly; --verbose says which store', (name) => {
    sopsBinary(name);
    expect(ok(box.run(['decrypt', file(name)]))).toBe(ENV_TEXT);
    const verbose = box.run(['decrypt', '--verbose', file(name)]);
    expect(verbose.status).toBe(0);
    expect(verbose.stdout).toBe(ENV_TEXT);
    if (name === '.env.production') expect(verbose.stderr).toContain('read as the binary store (its content), not dotenv (its name)');
    expect(ok(box.run(['filestatus', file(name)]))).toBe('{"encrypted":true}\n');
    // An explicit --input-type is obeyed: no detection.
    fails(box.run(['decrypt', '--input-type', 'dotenv', file(name)]), 1, /invalid dotenv at line 1/);
    expect(ok(box.run(['filestatus', '--input-type', 'dotenv', file(name)]))).toBe('{"encrypted":false}\n');
  });

  it('the --verbose note escapes control characters in the file name', () => {
    sopsBinary('.env.\nx\x1b[31m');
    const r = box.run(['decrypt', '--verbose', file('.env.\nx\x1b[31m')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(ENV_TEXT);
    expect(r.stderr).toContain('.env.\\x0ax\\x1b[31m: read as the binary store (its content), not dotenv (its name)');
    expect(r.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
  });

  it('a binary-store .env.production goes through set, rotate, edit and updatekeys, and stays in the binary store', () => {
    sopsBinary('.env.production');
    ok(box.run(['set', file('.env.production'), '["data"]', JSON.stringify(`A=${SECRET}\n`)]));
    expect(read('.env.production')).toMatch(/^\{\n\t"data": "ENC\[/);
    expect(ok(box.run(['decrypt', file('.env.production')]))).toBe(`A=${SECRET}\n`);
    ok(box.run(['rotate', '-i', file('.env.production')]));
    expect(read('.env.production')).toMatch(/^\{\n\t"data": "ENC\[/);
    expect(ok(box.run(['decrypt', file('.env.production')]))).toBe(`A=${SECRET}\n`);
    const editor = `${process.execPath} ${join(ROOT, 'test/support/fake-editor.mjs')}`;
    const actions = JSON.stringify([{ type: 'replace', from: 'A=', to: 'B=' }]);
    ok(box.run(['edit', file('.env.production')], { env: { EDITOR: editor, FAKE_EDITOR_LOG: file('editor.log'), FAKE_EDITOR_ACTIONS: actions } }));
    expect(read('.env.production')).toMatch(/^\{\n\t"data": "ENC\[/);
    expect(ok(box.run(['decrypt', file('.env.production')]))).toBe(`B=${SECRET}\n`);
    write('.sops.yaml', `creation_rules:\n  - age: ${box.recipient}\n`);
    ok(box.run(['updatekeys', '--yes', file('.env.production')]));
    expect(ok(box.run(['decrypt', file('.env.production')]))).toBe(`B=${SECRET}\n`);
    // The binary store holds `data` only, in sops too.
    fails(box.run(['unset', file('.env.production'), '["data"]']), 4, /binary output needs a single `data` key/);
  });

  it('exec-file and exec-env read a binary-store .env.production', () => {
    sopsBinary('.env.production');
    const out = ok(box.run(['exec-file', '--no-fifo', file('.env.production'), `${process.execPath} -e "process.stdout.write(require('fs').readFileSync(process.argv[1]))" {}`]));
    expect(out).toBe(ENV_TEXT);
    ok(box.run(['exec-env', file('.env.production'), 'true']));
    // An explicit --input-type is obeyed here too.
    for (const command of ['exec-file', 'exec-env']) {
      const r = box.run([command, '--input-type', 'dotenv', file('.env.production'), 'true']);
      expect({ command, status: r.status }).toEqual({ command, status: 1 });
      expect(r.stderr).toMatch(/invalid dotenv at line 1/);
    }
  });

  it('status reports a binary-store .env.production with its keys and a verified MAC', () => {
    // A folder of its own: status exits non-zero for the broken files other tests leave in the sandbox.
    const alone = join(box.dir, 'status-alone');
    mkdirSync(alone, { recursive: true });
    renameSync(sopsBinary('.env.production'), join(alone, '.env.production'));
    write('.sops.yaml', `creation_rules:\n  - age: ${box.recipient}\n`);
    const report = JSON.parse(ok(box.run(['status', '--json', alone]))) as { files: { file: string; format: string; mac: string; groups: { keys: { id: string }[] }[] }[] };
    const entry = report.files.find((f) => f.file.endsWith('.env.production'));
    expect(entry).toMatchObject({ format: 'binary', mac: 'ok', groups: [{ keys: [{ id: box.recipient }] }] });
  });

  it('git textconv shows the plaintext of a binary-store .env.production', () => {
    sopsBinary('.env.production');
    expect(ok(box.run(['git', 'textconv', file('.env.production')]))).toBe(ENV_TEXT);
  });

  it('stdin without type flags: the store comes from the content', () => {
    for (const [name, text] of [['s.yaml', `a: ${SECRET}\n`], ['s.json', `{"a": "${SECRET}"}\n`], ['s.env', `a=${SECRET}\n`], ['s.ini', `[x]\na = ${SECRET}\n`]] as const) {
      write(name, text);
      const enc = encrypt(name);
      const r = box.run(['decrypt'], { input: enc });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(text);
    }
  });

  it('each store under a wrong name decrypts as what it is', () => {
    const texts = { yaml: `a: ${SECRET}\n`, json: `{\n\t"a": "${SECRET}"\n}\n`, env: `a=${SECRET}\n`, ini: `[x]\na = ${SECRET}\n` };
    for (const [ext, text] of Object.entries(texts)) {
      write(`right.${ext}`, text);
      const enc = encrypt(`right.${ext}`);
      for (const wrong of ['yaml', 'json', 'env', 'ini', 'txt'].filter((w) => w !== ext && !(ext === 'json' && w === 'yaml'))) {
        write(`wrong.${wrong}`, enc);
        const r = box.run(['decrypt', file(`wrong.${wrong}`)]);
        expect({ ext, wrong, status: r.status, stderr: r.stderr }).toEqual({ ext, wrong, status: 0, stderr: '' });
        expect(r.stdout).toBe(text);
      }
    }
  });

  it('a file that reads as its named store is never reinterpreted', () => {
    // A JSON file is YAML too (nested collections closed on their own lines included): named .yaml, it is read as YAML.
    write('j.json', `{"a": "${SECRET}"}\n`);
    write('j.yaml', encrypt('j.json'));
    const y = box.run(['decrypt', '--verbose', '--extract', '["a"]', file('j.yaml')]);
    expect(y.stdout).toBe(SECRET);
    expect(y.stderr).not.toContain('read as');
    // A binary-store envelope named .json is a JSON file holding `data`, as in sops.
    write('env.txt', `A=${SECRET}\n`);
    write('envelope.json', encrypt('env.txt', '--output-type', 'json'));
    const j = box.run(['decrypt', '--verbose', file('envelope.json')]);
    expect(JSON.parse(j.stdout)).toEqual({ data: `A=${SECRET}\n` });
    expect(j.stderr).not.toContain('read as');
    // A plaintext .env.* file is still written as dotenv.
    write('.env.staging', `A=${SECRET}\n`);
    const enc = encrypt('.env.staging');
    expect(enc).toMatch(/^A=ENC\[AES256_GCM,.*\nsops_version=/s);
    // Plaintext that merely looks like another store's encrypted file is encrypted as what its name says.
    write('looks.txt', `sops_version=3.8.1\n`);
    expect(encrypt('looks.txt')).toMatch(/^\{\n\t"data": "ENC\[/);
  });

  it('a file that is no store at all still fails, naming the file', () => {
    write('junk.env', `{"not": "sops"}\n`);
    fails(box.run(['decrypt', file('junk.env')]), 1, /junk\.env: invalid dotenv at line 1/);
    write('junk', `just ${SECRET} text\n`);
    fails(box.run(['decrypt', file('junk')]), 1, /junk: sops metadata not found/);
  });

  const interop = join(INTEROP, 'sops-age-repo');
  const haveInterop = existsSync(join(interop, 'key.txt'));
  if (!haveInterop) console.log(`skipped: sops-written samples renamed (no ${interop})`);
  it.skipIf(!haveInterop)('sops-written files renamed: .env.production, secrets, and a .yaml named .json', () => {
    const env = { SOPS_AGE_KEY_FILE: join(interop, 'key.txt') };
    copyFileSync(join(interop, 'secret.enc.env'), file('.env.production'));
    copyFileSync(join(interop, 'secret.enc.env'), file('secrets'));
    copyFileSync(join(interop, 'secret.enc.yaml'), file('secret.json'));
    for (const name of ['.env.production', 'secrets']) {
      const r = box.run(['decrypt', file(name)], { env });
      expect({ name, status: r.status, stderr: r.stderr }).toEqual({ name, status: 0, stderr: '' });
      expect(r.stdout).toBe('secret=this is a secret\nanother_secret=7\n');
    }
    const y = box.run(['decrypt', '--extract', '["secret"]', file('secret.json')], { env });
    expect(y.stdout).toBe('this is a secret');
  });
});

describe('.env files through the CLI, read back by dotenv and dotenvx', async () => {
  const { default: dotenv } = await import('dotenv');
  const { default: dotenvx } = await import('@dotenvx/dotenvx');
  const fixtures = join(ROOT, 'test/formats/dotenv-fixtures');
  const names = ['empty-quoted.env', 'crlf-multiline.env', 'pem-escaped.env', 'single-quoted-multiline.env', 'single-quoted-hash.env', 'mixed.env'];

  it.each(names)('%s: encrypt writes sops KEY=VALUE lines, decrypt gives what dotenv read from the plaintext', (name) => {
    const plaintext = readFileSync(join(fixtures, name), 'utf8');
    write(name, plaintext);
    const encrypted = encrypt(name);
    for (const line of encrypted.split('\n').slice(0, -1)) expect(line).toMatch(/^(?:|#.*|[A-Z_]+=(?:ENC\[[^\]]*\]|)|sops_[^=]+=.*)$/);
    write(`enc-${name}`, encrypted);
    const decrypted = ok(box.run(['decrypt', file(`enc-${name}`)]));
    expect(dotenv.parse(decrypted)).toEqual(dotenv.parse(plaintext));
    expect(dotenvx.parse(decrypted, { processEnv: {} })).toEqual(dotenv.parse(plaintext));
  });

  it('refuses a plaintext value no dotenv quoting writes back, naming the line and not the value', () => {
    write('mixed-quotes.env', `A=1\nB="'\`${SECRET}\n`);
    fails(box.run(['encrypt', '--age', box.recipient, file('mixed-quotes.env')]), 2, /mixed-quotes\.env: invalid dotenv at line 2: this value mixes quotes/);
  });
});
