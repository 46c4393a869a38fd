import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchCreationRule, parseConfig, pathForMatching } from '../../src/config/index.js';
import { AGE_A, AGE_B, AGE_C } from './helpers.js';

const CONFIG = '/repo/.sopsrc';

function config(rules: string): ReturnType<typeof parseConfig> {
  return parseConfig(`creation_rules:\n${rules}`, CONFIG);
}

function matchedAge(cfg: ReturnType<typeof parseConfig>, file: string, cwd = '/repo'): string[] | undefined {
  return matchCreationRule(cfg, CONFIG, file, cwd)?.keys.age;
}

describe('pathForMatching', () => {
  it('strips the config directory from files inside it', () => {
    expect(pathForMatching(CONFIG, '/repo/prod/db.yaml', '/')).toBe('prod/db.yaml');
    expect(pathForMatching(CONFIG, 'prod/db.yaml', '/repo')).toBe('prod/db.yaml');
    expect(pathForMatching(CONFIG, '../x/../a.env', '/repo/sub')).toBe('a.env');
  });

  it('keeps the absolute path of files outside it, even with a shared name prefix', () => {
    expect(pathForMatching(CONFIG, '/other/db.yaml', '/')).toBe('/other/db.yaml');
    expect(pathForMatching(CONFIG, '/repo-2/db.yaml', '/')).toBe('/repo-2/db.yaml');
    expect(pathForMatching(CONFIG, '../elsewhere/f.env', '/repo')).toBe('/elsewhere/f.env');
  });

  it('resolves a relative config path against cwd', () => {
    expect(pathForMatching('.sopsrc', 'a/b.yaml', '/repo')).toBe('a/b.yaml');
  });

  it('property: any path below the config directory matches as its relative path', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        const relative = segments.join('/');
        expect(pathForMatching(CONFIG, join('/repo', relative), '/tmp')).toBe(relative);
        expect(pathForMatching(CONFIG, relative, '/repo')).toBe(relative);
      }),
    );
  });
});

describe('matchCreationRule', () => {
  const cfg = config([
    `  - path_regex: ^prod/`,
    `    age: ${AGE_A}`,
    `  - path_regex: \\.env$`,
    `    age: ${AGE_B}`,
    `  - age: ${AGE_C}`,
  ].join('\n'));

  it('takes the first rule whose path_regex matches, in order', () => {
    expect(matchedAge(cfg, 'prod/a.env')).toEqual([AGE_A]);
    expect(matchedAge(cfg, 'dev/a.env')).toEqual([AGE_B]);
  });

  it('lets a rule without path_regex match everything', () => {
    expect(matchedAge(cfg, 'dev/a.yaml')).toEqual([AGE_C]);
    expect(matchedAge(cfg, '/outside/anything')).toEqual([AGE_C]);
  });

  it('searches unanchored, anywhere in the path', () => {
    const loose = config(`  - path_regex: secrets\n    age: ${AGE_A}\n`);
    expect(matchedAge(loose, 'deep/dir/my-secrets-file.json')).toEqual([AGE_A]);
    expect(matchedAge(loose, 'deep/dir/other.json')).toBeUndefined();
  });

  it('matches relative to the config directory, not to cwd', () => {
    expect(matchedAge(cfg, 'db.yaml', '/repo/prod')).toEqual([AGE_A]);
    expect(matchedAge(cfg, 'prod/db.yaml', '/repo/sub')).toEqual([AGE_C]);
  });

  it('matches files outside the config directory by their absolute path', () => {
    expect(matchedAge(cfg, '/prod/x.yaml')).toEqual([AGE_C]);
    const absolute = config(`  - path_regex: ^/srv/\n    age: ${AGE_A}\n`);
    expect(matchedAge(absolute, '/srv/app/x.yaml')).toEqual([AGE_A]);
    expect(matchedAge(absolute, '/repo/srv/x.yaml')).toBeUndefined();
  });

  it('treats an empty path_regex as matching everything', () => {
    expect(matchedAge(config(`  - path_regex: ""\n    age: ${AGE_A}\n`), 'x')).toEqual([AGE_A]);
  });

  it('returns undefined when nothing matches or there are no creation rules', () => {
    expect(matchedAge(config(`  - path_regex: ^none$\n    age: ${AGE_A}\n`), 'x')).toBeUndefined();
    expect(matchedAge(parseConfig('creation_rules: []\n', CONFIG), 'x')).toBeUndefined();
    expect(matchedAge(parseConfig('stores: {}\n', CONFIG), 'x')).toBeUndefined();
  });

  it('understands a leading RE2 inline flag such as (?i)', () => {
    const caseless = config(`  - path_regex: (?i)\\.YAML$\n    age: ${AGE_A}\n`);
    expect(matchedAge(caseless, 'a.yaml')).toEqual([AGE_A]);
    expect(matchedAge(config(`  - path_regex: \\.YAML$\n    age: ${AGE_A}\n`), 'a.yaml')).toBeUndefined();
  });
});
