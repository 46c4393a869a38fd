import { describe, expect, it } from 'vitest';
import { lastValue, parseExecArgs, type FlagTable } from '../../src/exec/argv.js';
import { TsopsError } from '../../src/errors.js';
import { exitCodeOfError } from '../../src/cli/exit-codes.js';

const TABLE: FlagTable = {
  booleans: ['pristine', 'no-override'],
  values: ['file', 'user'],
  short: { f: 'file' },
  fileFlag: 'file',
  refused: { 'same-process': 'not here' },
};

function failure(argv: string[]): TsopsError {
  try {
    parseExecArgs(argv, TABLE);
  } catch (e) {
    return e as TsopsError;
  }
  throw new Error('expected a failure');
}

describe('parseExecArgs', () => {
  it('FILE plus one string is the shell form', () => {
    const a = parseExecArgs(['--pristine', 's.env', 'echo $A && exit 3'], TABLE);
    expect(a.files).toEqual(['s.env']);
    expect(a.command).toEqual({ shell: 'echo $A && exit 3' });
    expect(a.booleans.has('pristine')).toBe(true);
  });

  it('FILE -- argv is the argument form, flags after -- belong to the command', () => {
    const a = parseExecArgs(['s.env', '--', 'ls', '-la', '--', '{}'], TABLE);
    expect(a.command).toEqual({ argv: ['ls', '-la', '--', '{}'] });
  });

  it('flags after a command string apply to it and keep the shell form', () => {
    const a = parseExecArgs(['s.env', 'echo $A', '--pristine', '--user', 'u'], TABLE);
    expect(a.command).toEqual({ shell: 'echo $A' });
    expect(a.booleans.has('pristine')).toBe(true);
    expect(lastValue(a, 'user')).toBe('u');
    // Words that are not this command's flags keep the argument form.
    expect(parseExecArgs(['s.env', 'ls', '-la'], TABLE).command).toEqual({ argv: ['ls', '-la'] });
  });

  it('several words after FILE without -- are an argument vector too', () => {
    expect(parseExecArgs(['s.env', 'echo', 'hi'], TABLE).command).toEqual({ argv: ['echo', 'hi'] });
  });

  it('-f is repeatable, keeps order, and replaces the FILE operand', () => {
    const a = parseExecArgs(['-f', 'base.env', '--file=prod.env', '-f', 'x.env', '--', 'env'], TABLE);
    expect(a.files).toEqual(['base.env', 'prod.env', 'x.env']);
    expect(a.command).toEqual({ argv: ['env'] });
    const b = parseExecArgs(['-f', 'a.env', 'env | sort'], TABLE);
    expect(b.command).toEqual({ shell: 'env | sort' });
  });

  it('value flags take --name value and --name=value; the last one counts', () => {
    const a = parseExecArgs(['--user', 'a', '--user=b', 'f', 'c'], TABLE);
    expect(lastValue(a, 'user')).toBe('b');
    expect(lastValue(a, 'missing')).toBeUndefined();
  });

  it('--help wins wherever it stands among the flags', () => {
    expect(parseExecArgs(['--pristine', '-h'], TABLE).help).toBe(true);
    expect(parseExecArgs(['--help'], TABLE).help).toBe(true);
  });

  it.each([
    [['--bogus', 'f', 'c'], 1, /unknown flag --bogus/],
    [['-x', 'f', 'c'], 1, /unknown flag -x/],
    [['--same-process', 'f', 'c'], 1, /--same-process is not supported/],
    [['--pristine=1', 'f', 'c'], 1, /takes no value/],
    [['--user'], 1, /needs a value/],
    [[], 100, /no file given/],
    [['--', 'cmd'], 100, /no file given/],
    [['f'], 1, /no command given/],
    [['f', '--'], 1, /no command after --/],
    [['f', '--pristine', 'env'], 1, /flags go before the file/],
  ])('%j fails with exit %i', (argv, code, message) => {
    const e = failure(argv as string[]);
    expect(e).toBeInstanceOf(TsopsError);
    expect(exitCodeOfError(e)).toBe(code);
    expect(e.message).toMatch(message);
  });
});
