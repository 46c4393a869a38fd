import { dirname, resolve, sep } from 'node:path';
import { compileRe2 } from '../regex/re2.js';
import type { Config, CreationRule } from './types.js';

/**
 * The path `path_regex` sees, as sops computes it: absolute, then with
 * `<config dir>/` removed when the file lies inside that directory.
 */
export function pathForMatching(configPath: string, file: string, cwd: string): string {
  const absolute = resolve(cwd, file);
  const prefix = dirname(resolve(cwd, configPath)) + sep;
  return absolute.startsWith(prefix) ? absolute.slice(prefix.length) : absolute;
}

/**
 * The first creation rule whose `path_regex` finds a match anywhere in the
 * file's path (a rule without one matches every file). A broken rule met
 * before the match throws its error, as sops fails on it there. Undefined when none
 * matches or the config has no `creation_rules`.
 */
export function matchCreationRule(config: Config, configPath: string, file: string, cwd: string): CreationRule | undefined {
  const path = pathForMatching(configPath, file, cwd);
  return config.creationRules?.find((rule) => {
    if (rule.error) throw rule.error;
    return !rule.pathRegex || compileRe2(rule.pathRegex).test(path);
  });
}
