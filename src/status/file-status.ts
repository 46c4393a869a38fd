import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { formatForPath } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import { MacMismatchError, NoKeyError, DecryptionError, describeError } from '../errors.js';
import { keyIdentity, type KeyOptions } from '../keys/masterkey.js';
import { wrappableKinds } from '../keys/registry.js';
import { verifyOpens } from '../sops/open.js';
import { readMetadata } from '../sops/metadata.js';
import { git } from '../git/repo.js';
import { isCheckedBinding, STRUCTURE_FIELD } from '../sops/structure.js';
import { planUpdate } from '../rekey/updatekeys.js';
import { daysOld, dataKeyDate, olderThan, type KeyDateSource } from '../rekey/key-date.js';

/** One file's entry in `tsops status --json` (the schema is documented in docs/status.md). */
export interface FileStatus {
  file: string;
  format: string;
  groups: { keys: { type: string; id: string; name?: string }[] }[];
  threshold: number | null;
  lastModified: string;
  version: string;
  /** Against the current creation rules: "current", "stale" (keys to add or remove), or "unknown" (no config/rule). */
  config: { state: 'current' | 'stale' | 'unknown'; missing: string[]; extra: string[]; reason?: string };
  /** "ok", "mismatch", "undecryptable" (no key here), or "error". */
  mac: 'ok' | 'mismatch' | 'undecryptable' | 'error';
  /** The structure binding (docs/structure-binding.md): "bound", "unbound", or "lost" (HEAD's version in git had it, this one does not). */
  structure: 'bound' | 'unbound' | 'lost';
  /** When the data key was made and how that is known (docs/status.md); `overdue` only with a rotation keyDate. */
  dataKey: { created: string | null; daysOld: number | null; source: KeyDateSource; overdue?: boolean };
  error?: string;
}

export async function fileStatus(file: string, cwd: string, env: NodeJS.ProcessEnv, keys: KeyOptions, names: Map<string, string>, rotateAfterDays?: number, now: Date = new Date()): Promise<FileStatus> {
  const { parsed } = await readStore(readFileSync(file), formatForPath(file), { file, needMetadata: true });
  const format = parsed.format;
  const metadata = readMetadata(parsed.metadata!);
  const keyDate = await dataKeyDate(file, metadata);
  const status: FileStatus = {
    file,
    format,
    groups: metadata.keyGroups.map((g) => ({
      keys: g.map((r) => {
        const id = keyIdentity(r);
        const name = names.get(id);
        return name ? { type: r.type, id, name } : { type: r.type, id };
      }),
    })),
    threshold: metadata.shamirThreshold ?? null,
    lastModified: metadata.lastModified,
    version: metadata.version,
    config: { state: 'unknown', missing: [], extra: [] },
    mac: 'undecryptable',
    structure: isCheckedBinding(metadata.structure) ? 'bound' : committedWithBinding(file) ? 'lost' : 'unbound',
    dataKey: { created: keyDate.since?.toISOString() ?? null, daysOld: daysOld(keyDate, now) ?? null, source: daysOld(keyDate, now) === undefined ? 'unknown' : keyDate.source },
  };
  if (rotateAfterDays !== undefined) {
    const overdue = olderThan(keyDate, rotateAfterDays, now);
    if (overdue !== undefined) status.dataKey.overdue = overdue;
  }
  try {
    const plan = await planUpdate(file, cwd, env);
    status.config = {
      state: plan.diff.changed ? 'stale' : 'current',
      missing: plan.diff.groups.flatMap((g) => g.added),
      extra: plan.diff.groups.flatMap((g) => g.removed),
    };
  } catch (e) {
    status.config.reason = describeError(e).message;
  }
  try {
    await verifyOpens(parsed, { keys });
    status.mac = 'ok';
  } catch (e) {
    if (e instanceof NoKeyError) status.mac = 'undecryptable';
    else if (e instanceof MacMismatchError || e instanceof DecryptionError) status.mac = 'mismatch';
    else {
      status.mac = 'error';
      status.error = describeError(e).message;
    }
  }
  return status;
}

/** Whether the version of `file` in git's HEAD carries a structure binding (false outside git or when not committed). */
function committedWithBinding(file: string): boolean {
  try {
    const committed = git(['show', `HEAD:./${basename(file)}`], dirname(resolve(file)));
    return committed.includes(STRUCTURE_FIELD);
  } catch {
    return false;
  }
}

/** `age1... # alice` in a config file names that key in reports. */
export function keyNamesFromConfig(text: string): Map<string, string> {
  // Built-in patterns of the kinds' own keys (no flags, so exec keeps no state between lines).
  const keyPattern = new RegExp(wrappableKinds().map((kind) => kind.keys.keyPattern).join('|'));
  const names = new Map<string, string>();
  for (const line of text.split('\n')) {
    // The key before the line's first `#`, the name after it: found by cutting
    // at the `#` first, as one pattern spanning both backtracks cubically.
    const hash = line.indexOf('#');
    if (hash < 0) continue;
    const key = keyPattern.exec(line.slice(0, hash))?.[0];
    const name = line.slice(hash + 1).trim();
    if (key && name) names.set(key, name);
  }
  return names;
}
