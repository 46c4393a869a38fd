/**
 * What exec-env, exec-file and run hand a command beyond the authenticated
 * secrets, through the built CLI with real child processes: values the MAC
 * does not cover (empty ones, plaintext ones of a mac_only_encrypted file)
 * planted by someone without the keys, tsops's own key variables, and a
 * FIFO the command opens more than once.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execBox, uniqueSecret, type ExecBox } from '../exec/support.js';
import { INTEROP } from '../support/cli.js';
import { withoutBinding } from '../support/pipeline.js';

const SECRET = uniqueSecret();
let box: ExecBox;
/** A script that, if it ever runs inside the command, records the secret it could steal. */
let evil: string;
let stolen: string;

beforeAll(async () => {
  box = await execBox();
  stolen = join(box.dir, 'stolen');
  evil = join(box.dir, 'evil.cjs');
  writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(stolen)}, String(process.env.PASSWORD));\n`);
  tampered('base.enc.env', `PASSWORD=${SECRET}\n`, '');
});
afterAll(() => box.cleanup());

const PRINT_ENV = ['--', process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'];

/**
 * An encrypted file as sops writes it (tsops's structure binding removed:
 * with it, decryption itself refuses these edits, see the last test), then
 * lines added by someone without the keys.
 */
function tampered(name: string, plaintext: string, appended: string, flags: string[] = []): string {
  const r = box.tsops(['encrypt', '--age', box.recipient, ...flags, '--filename-override', name], { input: plaintext });
  if (r.status !== 0) throw new Error(`encrypt ${name} failed (${r.status}): ${r.stderr}`);
  writeFileSync(join(box.dir, name), withoutBinding(r.stdout) + appended);
  return name;
}

function envOf(args: string[], env?: NodeJS.ProcessEnv): Record<string, string> {
  const r = box.tsops(['exec-env', ...args, ...PRINT_ENV], env ? { env } : {});
  if (r.status !== 0) throw new Error(`exec-env failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

/** Refused before the command starts: exit 1, one line naming the key, no secret; the marker command never ran. */
function expectRefused(r: { status: number | null; stderr: string; stdout: string }, file: string, key: string): void {
  expect({ status: r.status, stderr: r.stderr }).toMatchObject({ status: 1, stderr: expect.stringContaining(`tsops: ${file}: `) });
  expect(r.stderr).toMatch(/^tsops: [^\n]+\n$/);
  expect(r.stderr).toContain(key);
  expect(r.stderr + r.stdout).not.toContain(SECRET);
  expect(r.stdout).not.toContain('RAN');
}

describe('exec-env: an empty value (never in the MAC) adds a variable but never replaces one', () => {
  it('PATH= appended to the file is refused while PATH is inherited; the command does not start', () => {
    const file = tampered('path.enc.env', `PASSWORD=${SECRET}\n`, 'PATH=\n');
    expectRefused(box.tsops(['exec-env', file, 'echo RAN']), file, '"PATH"');
    expectRefused(box.tsops(['run', file, 'echo RAN']), file, '"PATH"');
  });

  it('--allow-empty-override lets it through (the file still passes the MAC check: the format cannot tell)', () => {
    const env = envOf(['--allow-empty-override', 'path.enc.env'], { PATH: '/usr/bin:/bin' });
    expect(env['PATH']).toBe('');
    expect(env['PASSWORD']).toBe(SECRET);
  });

  it('an empty value may add a variable nobody set, and replace an inherited empty one', () => {
    const file = tampered('add.enc.env', `PASSWORD=${SECRET}\n`, 'NEW_EMPTY=\nALREADY_EMPTY=\n');
    const env = envOf([file], { ALREADY_EMPTY: '' });
    expect(env['NEW_EMPTY']).toBe('');
    expect(env['ALREADY_EMPTY']).toBe('');
    expect(env['PASSWORD']).toBe(SECRET);
  });

  it('--no-override (inherited wins) and --pristine (nothing inherited) make it an addition: allowed', () => {
    expect(envOf(['--no-override', 'path.enc.env'], { PATH: '/usr/bin:/bin' })['PATH']).toBe('/usr/bin:/bin');
    expect(envOf(['--pristine', 'path.enc.env'])).toEqual({ PASSWORD: SECRET, PATH: '' });
  });

  it('an empty value may not replace a value set earlier in the same file, or by an earlier file', () => {
    const same = tampered('dup.enc.env', `PASSWORD=${SECRET}\n`, 'PASSWORD=\n');
    expectRefused(box.tsops(['exec-env', '--pristine', same, 'echo RAN']), same, '"PASSWORD"');
    const base = 'base.enc.env';
    const later = tampered('later.enc.env', 'OTHER=x\n', 'PASSWORD=\n');
    expectRefused(box.tsops(['exec-env', '--pristine', '-f', base, '-f', later, 'echo RAN']), later, '"PASSWORD"');
    expect(envOf(['--pristine', '--allow-empty-override', '-f', base, '-f', later])).toEqual({ PASSWORD: '', OTHER: 'x' });
  });

  it('YAML: an empty string or null, top-level or flattened, is held to the same rule', () => {
    const yaml = box.tsops(['encrypt', '--age', box.recipient, '--filename-override', 'app.enc.yaml'], { input: `PASSWORD: ${SECRET}\n` });
    expect(yaml.status).toBe(0);
    writeFileSync(join(box.dir, 'null.enc.yaml'), `APP_MODE: null\n${withoutBinding(yaml.stdout)}`);
    writeFileSync(join(box.dir, 'nested.enc.yaml'), `APP:\n    MODE: ""\n${withoutBinding(yaml.stdout)}`);
    expectRefused(box.tsops(['exec-env', 'null.enc.yaml', 'echo RAN'], { env: { APP_MODE: 'safe' } }), 'null.enc.yaml', '"APP_MODE"');
    expectRefused(box.tsops(['exec-env', '--flatten', 'nested.enc.yaml', 'echo RAN'], { env: { APP_MODE: 'safe' } }), 'nested.enc.yaml', '"APP_MODE"');
    expect(envOf(['--flatten', 'nested.enc.yaml'], { OTHER: 'x' })['APP_MODE']).toBe('');
  });
});

describe('a file tsops wrote (with its structure binding)', () => {
  it('fails to decrypt once PATH= or a plaintext NODE_OPTIONS is planted: exit 51, nothing runs', () => {
    for (const [name, flags, planted] of [
      ['bound-path.enc.env', [], 'PATH=\n'],
      ['bound-maconly.enc.env', ['--mac-only-encrypted', '--unencrypted-regex', '^NODE_OPTIONS$'], `NODE_OPTIONS=--require=${evil}\n`],
    ] as const) {
      const r = box.tsops(['encrypt', '--age', box.recipient, ...flags, '--filename-override', name], { input: `PASSWORD=${SECRET}\n` });
      expect(r.stdout).toMatch(/^sops_tsops_structure=/m);
      writeFileSync(join(box.dir, name), r.stdout + planted);
      const run = box.tsops(['exec-env', '--allow-empty-override', '--allow-unauthenticated', name, 'echo RAN']);
      expect(run.status).toBe(51);
      expect(run.stderr).toMatch(/^tsops: [^\n]*structure mismatch[^\n]*\n$/);
      expect(run.stdout).not.toContain('RAN');
      expect(existsSync(stolen)).toBe(false);
    }
  });
});

describe('--help', () => {
  it('exec-env and exec-file list the opt-in flags', () => {
    for (const command of ['exec-env', 'exec-file']) {
      const r = box.tsops([command, '--help']);
      expect(r.status).toBe(0);
      for (const flag of ['--keep-key-env', '--allow-empty-override', '--allow-unauthenticated']) expect(r.stdout).toContain(flag);
    }
  });
});

describe('a file sops wrote', () => {
  const dir = join(INTEROP, 'sops-age-repo');
  it.skipIf(!existsSync(join(dir, 'secret.enc.env')))('its values pass; PATH= appended to it passes the MAC check but is refused', () => {
    const env = { SOPS_AGE_KEY_FILE: join(dir, 'key.txt'), PATH: '/usr/bin:/bin' };
    expect(envOf(['--pristine', join(dir, 'secret.enc.env')], env)).toEqual({ secret: 'this is a secret', another_secret: '7' });
    writeFileSync(join(box.dir, 'sops-written.enc.env'), `${readFileSync(join(dir, 'secret.enc.env'), 'utf8')}PATH=\n`);
    expectRefused(box.tsops(['exec-env', 'sops-written.enc.env', 'echo RAN'], { env }), 'sops-written.enc.env', '"PATH"');
    expect(envOf(['--allow-empty-override', 'sops-written.enc.env'], env)['PATH']).toBe('');
  });
});

describe('exec-env: plaintext values of a mac_only_encrypted file are refused', () => {
  const flags = ['--mac-only-encrypted', '--encrypted-regex', '^PASSWORD$'];

  it('NODE_OPTIONS planted without the keys would run code with the secrets; tsops refuses and nothing runs', () => {
    const file = tampered('maconly.enc.env', `PASSWORD=${SECRET}\n`, `NODE_OPTIONS=--require=${evil}\n`, flags);
    const r = box.tsops(['exec-env', file, '--', process.execPath, '-e', 'console.log("RAN")']);
    expectRefused(r, file, '"NODE_OPTIONS"');
    expect(r.stderr).toContain('mac_only_encrypted');
    expect(existsSync(stolen)).toBe(false);
  });

  it('--allow-unauthenticated takes them (and the planted code runs: why it is opt-in)', () => {
    const r = box.tsops(['exec-env', '--allow-unauthenticated', 'maconly.enc.env', '--', process.execPath, '-e', 'console.log("RAN")']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('RAN\n');
    expect(readFileSync(stolen, 'utf8')).toBe(SECRET);
  });

  it('a plaintext value the creator wrote is refused the same way; encrypted values alone pass', () => {
    const file = tampered('maconly-own.enc.env', `PASSWORD=${SECRET}\nHOST=db.internal\n`, '', flags);
    expectRefused(box.tsops(['exec-env', file, 'echo RAN']), file, '"HOST"');
    const clean = tampered('maconly-clean.enc.env', `PASSWORD=${SECRET}\n`, '', flags);
    expect(envOf(['--pristine', clean])).toEqual({ PASSWORD: SECRET });
  });
});

describe('exec-file: the same rules for the values it writes', () => {
  it('a plaintext value of a mac_only_encrypted file is refused; --allow-unauthenticated writes it', () => {
    const r = box.tsops(['exec-file', 'maconly.enc.env', 'cat {}; echo RAN']);
    expectRefused(r, 'maconly.enc.env', 'NODE_OPTIONS');
    const ok = box.tsops(['exec-file', '--allow-unauthenticated', 'maconly.enc.env', 'cat {}']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`NODE_OPTIONS=--require=${evil}`);
  });

  it('an empty value under a key the file already holds is refused; a new empty key is written', () => {
    expectRefused(box.tsops(['exec-file', 'dup.enc.env', 'cat {}; echo RAN']), 'dup.enc.env', 'PASSWORD');
    const ok = box.tsops(['exec-file', 'add.enc.env', 'cat {}']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(`PASSWORD=${SECRET}\nNEW_EMPTY=\nALREADY_EMPTY=\n`);
    const allowed = box.tsops(['exec-file', '--allow-empty-override', 'dup.enc.env', 'cat {}']);
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toBe(`PASSWORD=${SECRET}\nPASSWORD=\n`);
  });
});

describe("the command does not inherit tsops's own key variables", () => {
  const KEY_VARS = ['SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY_CMD', 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', 'SOPS_AGE_SSH_PRIVATE_KEY_CMD'];
  const keyEnv = (): NodeJS.ProcessEnv => ({
    SOPS_AGE_KEY: box.identity,
    SOPS_AGE_KEY_FILE: box.env['SOPS_AGE_KEY_FILE']!,
    SOPS_AGE_KEY_CMD: `cat ${box.env['SOPS_AGE_KEY_FILE']!}`,
    SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(box.dir, 'id_ed25519'),
    SOPS_AGE_SSH_PRIVATE_KEY_CMD: 'false',
    AWS_SECRET_ACCESS_KEY: 'not-ours',
    GNUPGHOME: join(box.dir, 'gnupg'),
  });

  it('exec-env and run withhold them (decryption still uses them); other tools\' settings pass', () => {
    for (const command of ['exec-env', 'run']) {
      const r = box.tsops([command, 'base.enc.env', ...PRINT_ENV], { env: keyEnv() });
      expect(r.status).toBe(0);
      const env = JSON.parse(r.stdout) as Record<string, string>;
      for (const name of KEY_VARS) expect(env[name]).toBeUndefined();
      expect(r.stdout).not.toContain(box.identity.slice(0, 30));
      expect(env['PASSWORD']).toBe(SECRET);
      expect(env['AWS_SECRET_ACCESS_KEY']).toBe('not-ours');
      expect(env['GNUPGHOME']).toBe(join(box.dir, 'gnupg'));
    }
  });

  it('exec-file withholds them too', () => {
    const r = box.tsops(['exec-file', 'base.enc.env', '--', process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'], { env: keyEnv() });
    expect(r.status).toBe(0);
    const env = JSON.parse(r.stdout) as Record<string, string>;
    for (const name of KEY_VARS) expect(env[name]).toBeUndefined();
    expect(env['AWS_SECRET_ACCESS_KEY']).toBe('not-ours');
  });

  it('--keep-key-env passes them on, for exec-env and exec-file', () => {
    const expected = keyEnv();
    const viaEnv = envOf(['--keep-key-env', 'base.enc.env'], expected);
    const r = box.tsops(['exec-file', '--keep-key-env', 'base.enc.env', '--', process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'], { env: expected });
    expect(r.status).toBe(0);
    const viaFile = JSON.parse(r.stdout) as Record<string, string>;
    for (const name of KEY_VARS) {
      expect(viaEnv[name]).toBe(expected[name]);
      expect(viaFile[name]).toBe(expected[name]);
    }
  });

  it('a key variable the secrets file itself sets is the user\'s secret and is passed', () => {
    const file = tampered('ownkey.enc.env', `SOPS_AGE_KEY_FILE=/run/app/key.txt\n`, '');
    expect(envOf(['--pristine', file])).toEqual({ SOPS_AGE_KEY_FILE: '/run/app/key.txt' });
  });
});

describe('exec-file: the FIFO serves every open while the command runs', () => {
  const TEXT = `PASSWORD=${SECRET}\n`;

  it('a command that reads the file twice gets the whole text both times', () => {
    const r = box.tsops(['exec-file', 'base.enc.env', 'cat {}; cat {}; test -p {} && echo still-a-fifo'], { timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${TEXT}${TEXT}still-a-fifo\n`);
  });

  it('a program that opens it a second time while the first open is still held gets the whole text on each', () => {
    const script = [
      'const fs = require("fs");',
      'const p = process.argv[1];',
      'const a = fs.openSync(p, "r");',
      'const b = fs.openSync(p, "r");',
      'const all = (fd) => { const chunks = []; const buf = Buffer.alloc(7); let n; while ((n = fs.readSync(fd, buf)) > 0) chunks.push(Buffer.from(buf.subarray(0, n))); return Buffer.concat(chunks).toString(); };',
      'const first = all(b); const second = all(a);',
      'process.stdout.write(JSON.stringify([first, second, fs.readFileSync(p, "utf8")]));',
    ].join('\n');
    const r = box.tsops(['exec-file', 'base.enc.env', '--', process.execPath, '-e', script, '{}'], { timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([TEXT, TEXT, TEXT]);
  });

  it.skipIf(process.getuid?.() !== 0)('with --user, every FIFO served is the other account\'s to open', () => {
    const r = box.tsops(['exec-file', '--user', 'nobody', 'base.enc.env', 'id -u; cat {}; cat {}'], { timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`65534\n${TEXT}${TEXT}`);
  });

  it('two threads opening it at the same instant never hang, and never see a part of the text', () => {
    const script = 'const p = process.argv[1]; Promise.all([1, 2, 3].map(() => require("fs").promises.readFile(p, "utf8"))).then((r) => process.stdout.write(JSON.stringify(r)));';
    for (let run = 0; run < 3; run++) {
      const r = box.tsops(['exec-file', 'base.enc.env', '--', process.execPath, '-e', script, '{}'], { timeout: 20_000 });
      expect(r.status).toBe(0);
      const reads = JSON.parse(r.stdout) as string[];
      // Readers already waiting together share one copy (see the FIFO server); each ends, with all of it or nothing.
      for (const text of reads) expect([TEXT, '']).toContain(text);
      expect(reads).toContain(TEXT);
    }
  });

  it('several readers one after the other, from a shell loop, each get it whole', () => {
    const r = box.tsops(['exec-file', 'base.enc.env', 'for i in 1 2 3 4 5; do cat {} | wc -c; done'], { timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).map((l) => Number(l.trim()))).toEqual(Array(5).fill(Buffer.byteLength(TEXT)));
  });
});
