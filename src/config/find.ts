import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

/** Names tried in each directory; the first present wins: tsops's own, then sops's. */
export const CONFIG_NAMES: readonly string[] = ['.sopsrc', '.sops.yaml', '.sops.yml'];

const MAX_LEVELS = 100;

export interface FindConfigOptions {
  /** The file being encrypted or decrypted (or its --filename-override). */
  target?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `--config PATH`. */
  explicit?: string;
}

/**
 * The config file that applies: `--config`, then `SOPS_CONFIG`, then the
 * nearest one walking up from the target's directory, then (as sops does)
 * walking up from the current directory. Undefined when there is none.
 */
export async function findConfig(options: FindConfigOptions): Promise<string | undefined> {
  const explicit = given(options.explicit, '--config') ?? given(options.env['SOPS_CONFIG'], 'SOPS_CONFIG');
  if (explicit) {
    const path = resolve(options.cwd, explicit.path);
    if (!isFile(path)) throw new ConfigError(`config file ${explicit.path} (from ${explicit.source}) does not exist or is not a file`);
    return path;
  }
  const starts: string[] = [];
  if (options.target && options.target !== '-') starts.push(dirname(resolve(options.cwd, options.target)));
  starts.push(resolve(options.cwd));
  for (const start of starts) {
    const found = walkUp(start);
    if (found) return found;
  }
  return undefined;
}

function given(path: string | undefined, source: string): { path: string; source: string } | undefined {
  return path ? { path, source } : undefined;
}

function walkUp(start: string): string | undefined {
  let dir = start;
  for (let level = 0; level < MAX_LEVELS; level++) {
    for (const name of CONFIG_NAMES) {
      const candidate = join(dir, name);
      if (isFile(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

// Synchronous: discovery is a short sequence of stats, and fs/promises costs start-up time.
function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}
