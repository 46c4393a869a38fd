/**
 * What the scanner lets through: `tsops.scan.allow` in the config (sops
 * ignores top-level fields it does not know), by path glob and rule, and the
 * inline marker `tsops:allow` on the line itself.
 *
 *   tsops:
 *     scan:
 *       allow:
 *         - path: docs/examples/**        # glob; without a `/` it matches the file name anywhere
 *           rule: aws                     # optional: `aws`, or `aws/AWSAccessKeyID`; default every rule
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { compileRe2, RegexSyntaxError, type LinearRegex } from '../regex/re2.js';
import { YamlReader } from '../yaml-fields/reader.js';

export const INLINE_MARKER = 'tsops:allow';

interface AllowEntry {
  path?: LinearRegex;
  rule?: string;
}

export class Allowlist {
  constructor(private readonly entries: AllowEntry[] = []) {}

  static fromConfigFile(configPath: string | undefined): Allowlist {
    if (!configPath) return new Allowlist();
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${configPath} (${(e as NodeJS.ErrnoException).code ?? 'read error'})`);
    }
    return Allowlist.parse(text, configPath);
  }

  static parse(text: string, configPath: string): Allowlist {
    const reader = new YamlReader(text, configPath);
    if (reader.root === null) return new Allowlist();
    const section = reader.fields(reader.root, '', ['tsops'], 'ignore').get('tsops');
    if (!section?.value) return new Allowlist();
    // Other fields of the `tsops` section belong to other features.
    const scan = reader.fields(section.value, 'tsops', ['scan'], 'ignore').get('scan');
    if (!scan?.value) return new Allowlist();
    const allow = reader.fields(scan.value, 'tsops.scan', ['allow'], 'fail').get('allow');
    const entries = (allow ? reader.list(allow) ?? [] : []).map(({ node, where }) => {
      if (node === null) return reader.fail(node, `${where} must be a mapping`);
      const fields = reader.fields(node, where, ['path', 'rule'], 'fail');
      const path = fields.get('path');
      const rule = fields.get('rule');
      const entry: AllowEntry = {};
      const glob = path ? reader.string(path) : undefined;
      if (glob) {
        try {
          entry.path = compileRe2(globToRegex(glob));
        } catch (e) {
          if (e instanceof RegexSyntaxError) reader.fail(path!.value, `${path!.where} is not a valid glob`);
          throw e;
        }
      }
      const ruleId = rule ? reader.string(rule) : undefined;
      if (ruleId) entry.rule = ruleId;
      if (!entry.path && !entry.rule) reader.fail(node, `${where} needs a path, a rule, or both`);
      return entry;
    });
    return new Allowlist(entries);
  }

  /** Whether a finding of `rule` in `path` (relative, with `/`) is allowed by the config. */
  allows(path: string, rule: string): boolean {
    return this.entries.some((e) => (!e.path || e.path.test(path)) && (!e.rule || e.rule === rule || rule.startsWith(`${e.rule}/`)));
  }
}

/** `**` any depth, `*` and `?` within one name; a glob without `/` matches the file name in any directory. */
export function globToRegex(glob: string): string {
  let body = '';
  const anchored = glob.includes('/');
  const pattern = glob.replace(/^\//, '');
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      body += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') body += '[^/]*';
    else if (c === '?') body += '[^/]';
    else {
      const code = pattern.codePointAt(i)!;
      body += /[A-Za-z0-9_/-]/.test(c) ? c : `\\x{${code.toString(16)}}`;
      if (code > 0xffff) i++;
    }
  }
  return anchored ? `^${body}$` : `(?:^|/)${body}$`;
}
