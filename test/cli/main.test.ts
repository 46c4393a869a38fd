import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main, normalizeArgs } from '../../src/cli/main.js';
import { reportError } from '../../src/cli/report.js';
import type { CliContext } from '../../src/cli/context.js';
import { DecryptionError, MacMismatchError, TsopsError } from '../../src/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('normalizeArgs: sops spellings reach the right command', () => {
  it.each<[string[], string[]]>([
    [['-e', 'a.yaml'], ['encrypt', 'a.yaml']],
    [['--encrypt', 'a.yaml'], ['encrypt', 'a.yaml']],
    [['--age', 'age1x', '-e', 'a.yaml'], ['encrypt', '--age', 'age1x', 'a.yaml']],
    [['-d', 'a.yaml'], ['decrypt', 'a.yaml']],
    [['--decrypt', '--extract', '["a"]', 'a.yaml'], ['decrypt', '--extract', '["a"]', 'a.yaml']],
    [['a.yaml', '-d'], ['decrypt', 'a.yaml']],
    [['--set', '["a"] 1', 'a.yaml'], ['set', '--legacy', '["a"] 1', 'a.yaml']],
    [['--set=["a"] 1', 'a.yaml'], ['set', '--legacy', '["a"] 1', 'a.yaml']],
    [['a.yaml'], ['edit', '--bare', 'a.yaml']],
  ])('%j -> %j', (argv, expected) => {
    expect(normalizeArgs(argv)).toEqual(expected);
  });

  it('leaves subcommand forms, help and version alone', () => {
    for (const argv of [[], ['encrypt', '-i', 'a.yaml'], ['decrypt', 'a.yaml'], ['filestatus', 'a', 'b'], ['keygen'], ['--help'], ['-v'], ['--version'], ['help', 'encrypt']]) {
      expect(normalizeArgs(argv)).toEqual(argv);
    }
  });

  it('a flag after the subcommand is not mistaken for a legacy spelling', () => {
    expect(normalizeArgs(['decrypt', '-d'])).toEqual(['decrypt', '-d']);
  });
});

describe('reportError', () => {
  it('prints one line with the file and returns the error exit code', () => {
    const err = capture();
    const code = reportError(new MacMismatchError('MAC mismatch', { file: 'a.yaml' }), err.stream);
    expect(code).toBe(ExitCode.MacMismatch);
    expect(err.text()).toBe('tsops: a.yaml: MAC mismatch\n');
  });

  it('keeps a message with a newline on one line: the newline is escaped, as every control character', () => {
    const err = capture();
    reportError(new DecryptionError('first\n  second \u001b[2J', { file: 'x\u009b' }), err.stream);
    expect(err.text()).toBe('tsops: x\\x9b: first\\x0a  second \\x1b[2J\n');
  });

  it('an unexpected exception is an internal error, exit 1, no stack trace', () => {
    const err = capture();
    const e = new TypeError('cannot read properties of undefined');
    expect(reportError(e, err.stream)).toBe(1);
    expect(err.text()).toBe('tsops: internal error: cannot read properties of undefined\n');
    expect(err.text()).not.toContain('    at ');
  });

  it('a system error is reported by reason, not by its raw text', () => {
    const err = capture();
    const e = Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES', path: '/x' });
    expect(reportError(e, err.stream)).toBe(1);
    expect(err.text()).toBe('tsops: /x: permission denied\n');
  });

  it('non-Error throwables do not crash the reporter', () => {
    const err = capture();
    expect(reportError('boom', err.stream)).toBe(1);
    expect(reportError(undefined, err.stream)).toBe(1);
    expect(err.text().trim().split('\n')).toHaveLength(2);
  });
});

describe('main in process', () => {
  const previous = process.exitCode;
  afterEach(() => {
    process.exitCode = previous;
  });

  function context(): { ctx: CliContext; out: () => string; err: () => string } {
    const out = capture();
    const err = capture();
    return { ctx: { cwd: process.cwd(), env: {}, stdout: out.stream, stderr: err.stream, stdinIsTTY: true }, out: out.text, err: err.text };
  }

  it('sets process.exitCode from a TsopsError and prints one line', async () => {
    const { ctx, err } = context();
    await main(['decrypt', '--extract', 'nope', 'whatever.yaml'], ctx);
    expect(process.exitCode).toBe(ExitCode.InvalidTreePathFormat);
    expect(err()).toMatch(/^tsops: invalid tree path "nope": .*\n$/);
  });

  it('a missing file is exit 100 naming the file', async () => {
    const { ctx, err } = context();
    await main(['decrypt', '/definitely/not/here.yaml'], ctx);
    expect(process.exitCode).toBe(ExitCode.NoFileSpecified);
    expect(err()).toBe('tsops: /definitely/not/here.yaml: no such file\n');
  });

  it('an unknown option is exit 1 with commander\'s message on one line', async () => {
    const { ctx, err } = context();
    await main(['decrypt', '--no-such-flag', 'a.yaml'], ctx);
    expect(process.exitCode).toBe(1);
    expect(err()).toMatch(/^tsops: unknown option '--no-such-flag'\n$/);
  });

  it('--version prints the version and exits 0', async () => {
    const { ctx, out } = context();
    await main(['--version'], ctx);
    expect(process.exitCode).toBe(0);
    expect(out()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('never throws, even when a stream write blows up', async () => {
    const { ctx } = context();
    const broken = { ...ctx, stdout: { write: () => { throw new TsopsError('stdout is gone', 'unwritable-output'); } } as unknown as NodeJS.WritableStream };
    await expect(main(['filestatus', import.meta.filename], broken)).resolves.toBeUndefined();
    expect(process.exitCode).toBe(3);
  });
});
