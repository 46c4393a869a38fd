import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { INTEROP } from '../support/interop.js';

/** age's published example pair. */
export const SPEC_IDENTITY = 'AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7';
export const SPEC_RECIPIENT = 'age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun';

/** The recipient whose identity is in sops-age-repo/key.txt. */
export const INTEROP_AGE_RECIPIENT = 'age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr';

export function tempDir(prefix = 'tsops-keys-'): { root: string; cleanup: () => void } {
  const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * An environment that cannot reach the user's own keys: HOME and
 * XDG_CONFIG_HOME point into `root`, and only PATH is inherited.
 */
export function isolatedEnv(root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'config'), ...extra };
}

/** The `enc` blocks of a YAML file's `sops.age` list, with their recipients, read with a plain regex. */
export function ageEntries(path: string): { recipient: string; enc: string }[] {
  const text = readFileSync(path, 'utf8');
  const entries: { recipient: string; enc: string }[] = [];
  const pattern = /- recipient: (\S+)\n\s+enc: \|\n((?:\s+.*\n)+?)\s+-----END AGE ENCRYPTED FILE-----\n/g;
  for (const m of text.matchAll(pattern)) {
    const body = `${m[2]}-----END AGE ENCRYPTED FILE-----\n`
      .split('\n')
      .map((l) => l.trim())
      .join('\n');
    entries.push({ recipient: m[1]!, enc: body });
  }
  return entries;
}
