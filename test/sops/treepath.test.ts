import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TsopsError, type ErrorKind } from '../../src/errors.js';
import { formatPath, type PathStep } from '../../src/sops/tree-edit.js';
import { parseTreePath } from '../../src/sops/treepath.js';
import { ExitCode, exitCodeOfError } from '../../src/cli/exit-codes.js';

function failure(text: string, kind?: ErrorKind): TsopsError {
  try {
    parseTreePath(text, kind);
  } catch (e) {
    if (e instanceof TsopsError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseTreePath', () => {
  it.each<[string, PathStep[]]>([
    ['["a"]', ['a']],
    ['["a"]["b"]', ['a', 'b']],
    ["['a']", ['a']],
    ['["a"][0]', ['a', 0]],
    ['[0]', [0]],
    ['["list"][12]["x"]', ['list', 12, 'x']],
    ['["with space"]', ['with space']],
    ['[""]', ['']],
    ['["a.b"]', ['a.b']],
    ['["has]bracket"]', ['has]bracket']],
    ['["007"]', ['007']],
    ['[007]', [7]],
  ])('%s -> %j', (text, steps) => {
    expect(parseTreePath(text)).toEqual(steps);
  });

  it('does not unescape quoted keys, as sops does not', () => {
    expect(parseTreePath('["a\\"b"]')).toEqual(['a\\"b']);
    expect(parseTreePath('["tab\\t"]')).toEqual(['tab\\t']);
  });

  it('strips only the outer quote pair, whatever is inside', () => {
    expect(parseTreePath(`["it's"]`)).toEqual(["it's"]);
    expect(parseTreePath(`['say "hi"']`)).toEqual(['say "hi"']);
  });

  it.each([
    ['', 'must start with ['],
    ['a', 'must start with ['],
    ['a["b"]', 'must start with ['],
    ['["a"', 'must end with ]'],
    ['["a"]x', 'must end with ]'],
    ['["a"] ', 'must end with ]'],
    ['["a"]["b"', 'must end with ]'],
    ['[a]', 'neither a quoted key nor an index'],
    ['[-1]', 'neither a quoted key nor an index'],
    ['[1.5]', 'neither a quoted key nor an index'],
    ['[ 1]', 'neither a quoted key nor an index'],
    ['[]', 'neither a quoted key nor an index'],
    ['["a]', 'unterminated quoted key'],
    ["['a\"]", 'unterminated quoted key'],
    ['["]', 'unterminated quoted key'],
    ['["a[b"]', 'must end with ]'],
  ])('rejects %j (%s) with exit 91 by default', (text, why) => {
    const e = failure(text);
    expect(exitCodeOfError(e)).toBe(ExitCode.InvalidTreePathFormat);
    expect(e.message).toContain(why);
    expect(e.message).not.toContain('\n');
  });

  it('uses the exit code the caller asks for (set/unset use 7)', () => {
    expect(exitCodeOfError(failure('nope', 'bad-set-argument'))).toBe(ExitCode.InvalidSetFormat);
  });

  it('keeps its message on one line whatever the path holds (fuzz finding, minimized)', () => {
    const e = failure('[1]\n\u001b1\u00ff]');
    expect(e.message).not.toMatch(/[\n\u001b]/);
  });

  it('shortens very long bad paths in its message', () => {
    const e = failure('x'.repeat(500));
    expect(e.message.length).toBeLessThan(200);
  });

  it('reads back every path formatPath writes (keys JSON need not escape, without [)', () => {
    const key = fc.string({ maxLength: 12 }).filter((s) => !/[["\\\u0000-\u001f\u2028\u2029]/.test(s));
    const step = fc.oneof(key, fc.nat({ max: 10_000 }));
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 6 }), (steps) => {
        expect(parseTreePath(formatPath(steps))).toEqual(steps);
      }),
    );
  });

  it('never throws anything but a TsopsError, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: fc.constantFrom('[', ']', '"', "'", 'a', '0', '1', ' ') }), (text) => {
        try {
          const steps = parseTreePath(text);
          expect(steps.length).toBeGreaterThan(0);
        } catch (e) {
          expect(e).toBeInstanceOf(TsopsError);
          expect(exitCodeOfError(e as TsopsError)).toBe(ExitCode.InvalidTreePathFormat);
        }
      }),
    );
  });
});
