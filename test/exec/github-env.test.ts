/** The GitHub Actions records and mask commands, for any value. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkExportName, envRecord, freshDelimiter, maskCommands } from '../../src/exec/github-env.js';

const unescape = (data: string): string => data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

describe('github-env records', () => {
  it('every line of a value with more than blanks is masked, as one single-line command each', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '%', '0', 'A', ':', '\n', '\r', ' ', 'é', 'D') , maxLength: 40 }), (value) => {
        const commands = maskCommands(value).split('\n');
        expect(commands.pop()).toBe('');
        expect(commands.every((c) => c.startsWith('::add-mask::') && !c.includes('\r'))).toBe(true);
        const masked = commands.map((c) => unescape(c.slice('::add-mask::'.length)));
        for (const line of value.split(/\r\n|\r|\n/)) if (line.trim() !== '') expect(masked).toContain(line);
      }),
    );
  });

  it('a record reads back as its value, the delimiter being none of its lines', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (value) => {
        const delimiter = freshDelimiter([value]);
        const lines = envRecord('NAME', value, delimiter).split('\n');
        expect(lines.shift()).toBe(`NAME<<${delimiter}`);
        expect(lines.pop()).toBe('');
        expect(lines.pop()).toBe(delimiter);
        expect(lines).not.toContain(delimiter);
        expect(lines.join('\n')).toBe(value);
      }),
    );
  });

  it('names: shell names only, nothing that steers later steps', () => {
    for (const ok of ['TOKEN', 'db_password', '_X1']) expect(() => checkExportName(ok)).not.toThrow();
    for (const bad of ['', '1X', 'A-B', 'A=B', 'A\nB', 'PATH', 'path', 'BASH_ENV', 'LD_PRELOAD', 'GITHUB_PATH', 'RUNNER_TEMP', 'SOPS_AGE_KEY']) {
      expect(() => checkExportName(bad), bad).toThrow();
    }
  });
});
