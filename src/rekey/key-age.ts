/**
 * How old a file's data key is. sops and tsops write `created_at` on PGP and
 * cloud master-key entries (age entries have none): the oldest one is the
 * source when present. sops keeps an entry's `created_at` when it rotates, so
 * for a file rotated by sops this over-states the age (it errs towards
 * rotating); tsops writes fresh entries on rotation. Without `created_at`,
 * git's history answers: the newest commit whose version shares no value
 * ciphertext and no wrapped data key with the version before it. A sops edit
 * re-encrypts every value with the same data key but keeps the wrapped keys;
 * adding a master key re-wraps the data key but keeps the values; only a new
 * data key (or a first encryption) changes both.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { readStore } from '../formats/detect.js';
import { formatForPath } from '../formats/format.js';
import { git } from '../git/repo.js';
import { readMetadata, type Metadata } from '../sops/metadata.js';
import type { Node, ParsedFile } from '../tree.js';

export type KeyAgeSource = 'created_at' | 'git' | 'lastmodified' | 'unknown';

export interface DataKeyAge {
  /** When the data key was made, as well as the source tells; undefined when unknown. */
  since?: Date;
  source: KeyAgeSource;
}

const DAY_MS = 86_400_000;

export function ageInDays(age: DataKeyAge, now: Date): number | undefined {
  return age.since ? Math.floor((now.getTime() - age.since.getTime()) / DAY_MS) : undefined;
}

export async function dataKeyAge(file: string, metadata: Metadata): Promise<DataKeyAge> {
  const created = oldestCreatedAt(metadata);
  if (created) return { since: created, source: 'created_at' };
  return fromGit(file, metadata);
}

function oldestCreatedAt(metadata: Metadata): Date | undefined {
  let oldest: Date | undefined;
  for (const record of metadata.keyGroups.flat()) {
    const value = record.fields['created_at'];
    if (typeof value !== 'string' || !value) continue;
    const time = new Date(value);
    if (Number.isNaN(time.getTime())) continue;
    if (!oldest || time < oldest) oldest = time;
  }
  return oldest;
}

interface Fingerprint {
  values: Set<string>;
  wrapped: Set<string>;
}

async function fingerprintOf(bytes: Uint8Array, file: string): Promise<Fingerprint | undefined> {
  let parsed: ParsedFile;
  try {
    ({ parsed } = await readStore(bytes, formatForPath(file), { file, needMetadata: true }));
    if (!parsed.metadata) return undefined;
    const metadata = readMetadata(parsed.metadata);
    const values = new Set<string>();
    for (const doc of parsed.documents) collectCiphertext(doc, values);
    const wrapped = new Set(metadata.keyGroups.flat().map((r) => r.fields['enc']).filter((e): e is string => typeof e === 'string'));
    return { values, wrapped };
  } catch {
    return undefined; // not an encrypted file in that version
  }
}

function collectCiphertext(node: Node, into: Set<string>): void {
  if (node.kind === 'scalar') {
    if (typeof node.value === 'string' && node.value.startsWith('ENC[')) into.add(node.value);
  } else if (node.kind === 'map') {
    for (const item of node.items) if (item.kind === 'entry') collectCiphertext(item.value, into);
  } else {
    for (const item of node.items) if (item.kind !== 'comment') collectCiphertext(item, into);
  }
}

/** `newer` has a data key `older` did not: nothing of either kind carried over (or `older` was no encrypted file). */
function newDataKey(older: Fingerprint | undefined, newer: Fingerprint): boolean {
  if (!older) return true;
  for (const v of newer.values) if (older.values.has(v)) return false;
  for (const w of newer.wrapped) if (older.wrapped.has(w)) return false;
  return true;
}

async function fromGit(file: string, metadata: Metadata): Promise<DataKeyAge> {
  const cwd = dirname(resolve(file));
  const name = `./${basename(file)}`;
  let log: string;
  try {
    log = git(['log', '--format=%H %ct', '--', name], cwd).toString('utf8');
  } catch {
    return { source: 'unknown' };
  }
  const commits = log.split('\n').filter(Boolean).map((line) => {
    const [hash, seconds] = line.split(' ');
    return { hash: hash!, time: new Date(Number(seconds) * 1000) };
  });
  if (commits.length === 0) return { source: 'unknown' };
  const version = async (hash: string): Promise<Fingerprint | undefined> => {
    try {
      return await fingerprintOf(git(['show', `${hash}:${name}`], cwd), file);
    } catch {
      return undefined; // deleted in that commit
    }
  };
  const current = await fingerprintOf(readFileSync(file), file);
  let newer = await version(commits[0]!.hash);
  // A rotation not committed yet: the file's own lastmodified is when it was written.
  if (current && newer && newDataKey(newer, current)) {
    const written = new Date(metadata.lastModified);
    return Number.isNaN(written.getTime()) ? { source: 'unknown' } : { since: written, source: 'lastmodified' };
  }
  for (let i = 0; i < commits.length; i++) {
    const older = i + 1 < commits.length ? await version(commits[i + 1]!.hash) : undefined;
    if (newer && newDataKey(older, newer)) return { since: commits[i]!.time, source: 'git' };
    newer = older;
  }
  return { source: 'unknown' };
}

/** Whether the data key is older than `days` at `now`; undefined when its age is unknown. */
export function olderThan(age: DataKeyAge, days: number, now: Date): boolean | undefined {
  if (!age.since) return undefined;
  return now.getTime() - age.since.getTime() > days * DAY_MS;
}
