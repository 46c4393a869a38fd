/**
 * exec-env --redact and exec-file --redact through the built CLI: children
 * print the secret values in every encoding tsops hides, split across
 * writes, interleaved on stdout and stderr, in large and binary output; the
 * output reaches the caller with each of them replaced, otherwise unchanged
 * and in order, and the command's status and signal are still ours.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSOPS } from '../support/cli.js';
import { ended, execBox, lineReader, processExists, uniqueSecret, type ExecBox } from '../exec/support.js';

const SECRET = uniqueSecret();
/** Characters every escape treats differently: space, slash, plus, quote, backslash, non-ASCII, `::`. */
const SPECIAL = `p@ss w/rd+"q"\\é&=?::${uniqueSecret().slice(-8)}`;
const PEM_LINES = ['-----BEGIN TEST KEY-----', 'MIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEA' + SECRET.slice(-8), 'q7BFUpkGp3Ot8Br4OGyJr4ng6nYcM4eV1gBZNoXT', '-----END TEST KEY-----'];
const PEM = PEM_LINES.join('\n') + '\n';
const ALL = { SECRET, SPECIAL, PEM };

let box: ExecBox;

beforeAll(async () => {
  box = await execBox();
  const pemBlock = PEM_LINES.map((l) => `    ${l}`).join('\n');
  box.encrypt('app.enc.yaml', `SECRET: ${SECRET}\nSPECIAL: ${JSON.stringify(SPECIAL)}\nPEM: |\n${pemBlock}\n`);
  box.encrypt('weak.enc.yaml', `SECRET: ${SECRET}\nPIN: abc\nENABLED: "true"\nPLAIN_NAME: x\n`);
  box.encrypt('nested.enc.yaml', `db:\n    password: ${SECRET}\n    hosts:\n        - ${JSON.stringify(SPECIAL)}\n`);
  box.encrypt('blob.bin', SECRET + '\n');
  writeFileSync(join(box.dir, 'print.mjs'), PRINTER);
});
afterAll(() => box.cleanup());

/** Every form a value is printed in, as the child computes it. */
function encodings(value: string): Record<string, string> {
  const b64 = Buffer.from(value).toString('base64');
  return {
    raw: value,
    base64: b64,
    base64NoPad: b64.replace(/=+$/, ''),
    base64url: Buffer.from(value).toString('base64url'),
    base64urlPadded: Buffer.from(value).toString('base64url') + '='.repeat(b64.length - Buffer.from(value).toString('base64url').length),
    uri: encodeURIComponent(value),
    form: new URLSearchParams({ v: value }).toString().slice(2),
    json: JSON.stringify(value).slice(1, -1),
    hex: Buffer.from(value).toString('hex'),
    hexUpper: Buffer.from(value).toString('hex').toUpperCase(),
  };
}

/** The child: prints what its first argument asks for, from the variables it was given. */
const PRINTER = `
import { writeSync } from 'node:fs';
const names = ['SECRET', 'SPECIAL', 'PEM'];
const encodings = ${encodings.toString()};
const mode = process.argv[2];
const out = (fd, text) => writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
const pause = () => new Promise((r) => setImmediate(r));
if (mode === 'encodings') {
  for (const name of names) for (const [form, text] of Object.entries(encodings(process.env[name]))) out(1, name + '.' + form + '=<' + text + '>\\n');
  out(1, 'basic=Basic ' + Buffer.from('user:' + process.env.SECRET).toString('base64') + '\\n');
  out(1, 'json={"token":' + JSON.stringify(process.env.SPECIAL) + '}\\n');
} else if (mode === 'split') {
  for (const name of names) for (const text of Object.values(encodings(process.env[name]))) {
    const half = Math.floor(text.length / 2);
    out(1, 'a<' + text.slice(0, half));
    await pause();
    out(1, text.slice(half) + '>b\\n');
    await pause();
  }
  out(1, 'tail<' + process.env.SECRET.slice(0, 5));
  await pause();
  out(1, process.env.SECRET.slice(5) + '>');
} else if (mode === 'wrapped') {
  // As base64(1) and openssl base64 print it.
  const b64 = Buffer.from(process.env.PEM).toString('base64');
  for (const width of [64, 76]) out(1, b64.match(new RegExp('.{1,' + width + '}', 'g')).join('\\n') + '\\n');
} else if (mode === 'interleave') {
  for (let i = 0; i < 200; i++) out(i % 3 === 0 ? 2 : 1, i + ':' + (i % 7 === 0 ? process.env.SECRET : 'plain') + '\\n');
} else if (mode === 'large') {
  const lines = [];
  for (let i = 0; i < 60000; i++) lines.push('line ' + i + ' ' + (i % 997 === 0 ? process.env.SECRET : 'x'.repeat(60)));
  process.stdout.write(lines.join('\\n') + '\\n');
} else if (mode === 'long-line') {
  out(1, 'y'.repeat(65530) + process.env.SECRET + 'z'.repeat(140000) + process.env.SECRET);
} else if (mode === 'binary') {
  out(1, Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3]), Buffer.from(process.env.SECRET), Buffer.from([0x80, 0x0a, 0xed, 0xa0, 0x80])]));
} else if (mode === 'exit') {
  out(1, 'before ' + process.env.SECRET + '\\n');
  out(2, 'error ' + process.env.SECRET);
  process.exit(Number(process.argv[3]));
} else if (mode === 'signal') {
  out(1, 'dying ' + process.env.SECRET + '\\n');
  process.kill(process.pid, 'SIGTERM');
  setInterval(() => {}, 1000);
} else if (mode === 'stdin') {
  process.stdin.pipe(process.stdout);
} else if (mode === 'fd-kind') {
  out(1, (await import('node:fs')).fstatSync(1).isFile() ? 'file' : 'not-file');
}
`;

function redacted(args: string[], mode: string, extra: string[] = [], input = '') {
  return spawnSync(process.execPath, [TSOPS, 'exec-env', '--redact', ...args, '--', process.execPath, 'print.mjs', mode, ...extra], {
    cwd: box.dir,
    env: box.env,
    input,
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** No form of any secret value, nor any line of the PEM, is in `text`. */
function expectNoSecret(text: string): void {
  for (const value of Object.values(ALL)) for (const [form, encoded] of Object.entries(encodings(value))) {
    if (encoded.includes('\n')) continue;
    expect(text, `${form} of a value`).not.toContain(encoded);
  }
  for (const line of PEM_LINES) expect(text).not.toContain(line);
  expect(text).not.toContain(Buffer.from('user:' + SECRET).toString('base64').slice(8, -4));
}

describe('exec-env --redact', () => {
  it('hides every value in every encoding, each line kept apart', () => {
    const r = redacted(['app.enc.yaml'], 'encodings');
    expect(r.status).toBe(0);
    const out = r.stdout.toString();
    expectNoSecret(out);
    const lines = out.split('\n');
    for (const name of ['SECRET', 'SPECIAL']) {
      for (const form of Object.keys(encodings('x'))) expect(lines).toContain(`${name}.${form}=<[redacted]>`);
    }
    // The raw PEM spans lines: each of them is hidden on its own.
    expect(out).toContain('PEM.raw=<[redacted]\n[redacted]\n[redacted]\n[redacted]\n>\n');
    for (const form of Object.keys(encodings('x')).filter((f) => f !== 'raw')) expect(lines).toContain(`PEM.${form}=<[redacted]>`);
    expect(lines).toContain('json={"token":"[redacted]"}');
    expect(lines.find((l) => l.startsWith('basic='))).toMatch(/^basic=Basic [A-Za-z0-9+/]{0,8}\[redacted\][A-Za-z0-9+/=]{0,4}$/);
  });

  it('hides a long value\'s base64 wrapped over lines as base64(1) and openssl print it', () => {
    const r = redacted(['app.enc.yaml'], 'wrapped');
    expect(r.status).toBe(0);
    const lines = r.stdout.toString().trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(4);
    expect(lines.every((line) => line === '[redacted]')).toBe(true);
  });

  it('warns once, by name, about values too short or too common to hide; they are shown', () => {
    const r = spawnSync(process.execPath, [TSOPS, 'exec-env', '--redact', 'weak.enc.yaml', 'printf "%s %s" "$PIN" "$ENABLED"'], { cwd: box.dir, env: box.env });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe('abc true');
    const stderr = r.stderr.toString();
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/warning: --redact does not hide values shorter than 4 bytes or true\/false\/null: PIN, ENABLED, PLAIN_NAME\n$/);
  });

  it('finds a value split across writes, and a partial last line when the stream ends', () => {
    const r = redacted(['app.enc.yaml'], 'split');
    expect(r.status).toBe(0);
    const out = r.stdout.toString();
    expectNoSecret(out);
    expect(out.endsWith('tail<[redacted]>')).toBe(true);
    expect(out.split('\n').filter((l) => l === 'a<[redacted]>b').length).toBeGreaterThanOrEqual(16);
  });

  it('keeps the order within stdout and within stderr, each redacted', () => {
    const r = redacted(['app.enc.yaml'], 'interleave');
    expect(r.status).toBe(0);
    const expected = (fd: number): string =>
      Array.from({ length: 200 }, (_, i) => i)
        .filter((i) => (i % 3 === 0 ? 2 : 1) === fd)
        .map((i) => `${i}:${i % 7 === 0 ? '[redacted]' : 'plain'}\n`)
        .join('');
    expect(r.stdout.toString()).toBe(expected(1));
    expect(r.stderr.toString()).toBe(expected(2));
  });

  it('large output: every line, in order, byte for byte but the values', () => {
    const r = redacted(['app.enc.yaml'], 'large');
    expect(r.status).toBe(0);
    const lines: string[] = [];
    for (let i = 0; i < 60000; i++) lines.push(`line ${i} ${i % 997 === 0 ? '[redacted]' : 'x'.repeat(60)}`);
    expect(r.stdout.equals(Buffer.from(lines.join('\n') + '\n'))).toBe(true);
  });

  it('a line longer than the buffer is let out in parts, a value on the cut still hidden', () => {
    const r = redacted(['app.enc.yaml'], 'long-line');
    expect(r.status).toBe(0);
    expect(r.stdout.equals(Buffer.from('y'.repeat(65530) + '[redacted]' + 'z'.repeat(140000) + '[redacted]'))).toBe(true);
  });

  it('binary output: invalid UTF-8 and NUL pass unchanged around the value', () => {
    const r = redacted(['app.enc.yaml'], 'binary');
    expect(r.status).toBe(0);
    expect(r.stdout.equals(Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3]), Buffer.from('[redacted]'), Buffer.from([0x80, 0x0a, 0xed, 0xa0, 0x80])]))).toBe(true);
  });

  it.each([0, 3, 42])('the command\'s exit code %i is ours, its last output flushed and redacted', (code) => {
    const r = redacted(['app.enc.yaml'], 'exit', [String(code)]);
    expect(r.status).toBe(code);
    expect(r.stdout.toString()).toBe('before [redacted]\n');
    expect(r.stderr.toString()).toMatch(/error \[redacted\]$/);
  });

  it('a command killed by SIGTERM kills tsops by SIGTERM, after its output', () => {
    const r = redacted(['app.enc.yaml'], 'signal');
    expect(r.signal).toBe('SIGTERM');
    expect(r.stdout.toString()).toBe('dying [redacted]\n');
  });

  it('stdin reaches the command untouched', () => {
    const input = 'no secret here\n\u00e9\n';
    const r = redacted(['app.enc.yaml'], 'stdin', [], input);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe(input);
  });

  it('without --redact the command writes to our stdout itself; with it, through a pipe', () => {
    const outFile = join(box.dir, 'out.txt');
    for (const [flags, kind] of [[[], 'file'], [['--redact'], 'not-file']] as const) {
      const fd = openSync(outFile, 'w');
      try {
        const r = spawnSync(process.execPath, [TSOPS, 'exec-env', ...flags, 'app.enc.yaml', '--', process.execPath, 'print.mjs', 'fd-kind'], { cwd: box.dir, env: box.env, stdio: ['ignore', fd, 'pipe'] });
        expect(r.status).toBe(0);
      } finally {
        closeSync(fd);
      }
      expect(readFileSync(outFile, 'utf8')).toBe(kind);
    }
  });

  it('output a background process writes after the command exits is waited for and redacted', () => {
    const r = spawnSync(process.execPath, [TSOPS, 'exec-env', '--redact', 'app.enc.yaml', 'echo start; (read -r _ < /dev/null; printf "late %s\\n" "$SECRET") & exit 5'], { cwd: box.dir, env: box.env, timeout: 60_000 });
    expect(r.status).toBe(5);
    expect(r.stdout.toString().split('\n').sort()).toEqual(['', 'late [redacted]', 'start']);
  });

  it('a signal once the command has exited stops waiting for what a background process holds open', async () => {
    const child = box.start(['exec-env', '--redact', 'app.enc.yaml', 'sleep 60 & echo "$! $$"; exit 4']);
    const done = ended(child);
    const [sleeper, shell] = (await lineReader(child.stdout).next()).split(' ').map(Number) as [number, number];
    try {
      while (processExists(shell)) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGINT');
      const result = await done;
      expect(result.code).toBe(4);
    } finally {
      process.kill(sleeper, 'SIGKILL');
    }
  });

  it('a reader that goes away gives the command a broken pipe, not a hang', () => {
    const r = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${TSOPS}" exec-env --redact app.enc.yaml -- "${process.execPath}" print.mjs large | head -c 10`], { cwd: box.dir, env: box.env, timeout: 60_000 });
    expect(r.stdout.toString()).toBe('line 0 [re');
    expect(r.error).toBeUndefined();
  });
});

describe('exec-file --redact', () => {
  it('hides the values of the file the command prints, nested ones included', () => {
    const r = spawnSync(process.execPath, [TSOPS, 'exec-file', '--redact', '--output-type', 'json', 'nested.enc.yaml', 'cat {}'], { cwd: box.dir, env: box.env });
    expect(r.status).toBe(0);
    const out = r.stdout.toString();
    expectNoSecret(out);
    // The JSON tsops writes spells & as \u0026, as sops does: that spelling is hidden too.
    expect(JSON.parse(out)).toEqual({ db: { password: '[redacted]', hosts: ['[redacted]'] } });
  });

  it('refuses, before the command starts, values too large to look for', () => {
    box.encrypt('huge.bin', 'x'.repeat(200 * 1024));
    const r = spawnSync(process.execPath, [TSOPS, 'exec-file', '--redact', 'huge.bin', 'echo started; cat {}'], { cwd: box.dir, env: box.env });
    expect(r.status).toBe(1);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr.toString()).toMatch(/^tsops: --redact: the decrypted values are too large to look for in the output \(\d+ KiB with their encodings, at most 1024 KiB\)\n$/);
  });

  it('hides a binary file\'s content', () => {
    const r = spawnSync(process.execPath, [TSOPS, 'exec-file', '--redact', 'blob.bin', 'cat {}; cat {} >&2; exit 42'], { cwd: box.dir, env: box.env });
    expect(r.status).toBe(42);
    expect(r.stdout.toString()).toBe('[redacted]\n');
    expect(r.stderr.toString()).toBe('[redacted]\n');
  });
});
