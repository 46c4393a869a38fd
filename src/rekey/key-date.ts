/**
 * How old a file's data key is. sops and tsops write `created_at` on PGP and
 * cloud master-key entries (age entries have none): the oldest one is the
 * source when present, unless git's history shows the key older (the field
 * is outside the MAC, so anyone can write today into it). sops keeps an entry's `created_at` when it rotates, so
 * for a file rotated by sops this over-states the age (it errs towards
 * rotating); tsops writes fresh entries on rotation. Without `created_at`,
 * git's history answers: the newest commit whose version shares no value
 * ciphertext and no wrapped data key with any version before it (not only
 * the one just before: a commit that deleted or swapped the file and one
 * that put it back would otherwise make an old key look new). A sops edit
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

export type KeyDateSource = 'created_at' | 'git' | 'lastmodified' | 'unknown';

export interface DataKeyDate {
  /** When the data key was made, as well as the source tells; undefined when unknown. */
  since?: Date;
  source: KeyDateSource;
}

const DAY_MS = 86_400_000;

/**
 * Neither `created_at` nor a commit date is authenticated: a date more than a
 * day ahead of the clock is someone's doing (or a broken clock), and makes the
 * age unknown rather than young, so `rotate --older-than` reports the file
 * instead of passing over it.
 */
function trusted(keyDate: DataKeyDate, now: Date): Date | undefined {
  return keyDate.since && keyDate.since.getTime() <= now.getTime() + DAY_MS ? keyDate.since : undefined;
}

export function daysOld(keyDate: DataKeyDate, now: Date): number | undefined {
  const since = trusted(keyDate, now);
  return since ? Math.max(0, Math.floor((now.getTime() - since.getTime()) / DAY_MS)) : undefined;
}

export async function dataKeyDate(file: string, metadata: Metadata): Promise<DataKeyDate> {
  const created = oldestCreatedAt(metadata);
  if (!created) return fromGit(file, metadata);
  // created_at is outside the MAC: anyone can set it to today. History that shows the key older wins.
  const history = await fromGit(file, metadata);
  if (history.source === 'git' && history.since && history.since < created) return history;
  return { since: created, source: 'created_at' };
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

async function fromGit(file: string, metadata: Metadata): Promise<DataKeyDate> {
  const cwd = dirname(resolve(file));
  const name = `./${basename(file)}`;
  let commits: { time: Date; blob: string | undefined }[];
  try {
    commits = commitsOf(git(['log', '--first-parent', '-m', '--format=%x00%ct', '--raw', '--no-abbrev', '--no-renames', '--', name], cwd).toString('utf8'));
  } catch {
    return { source: 'unknown' };
  }
  if (commits.length === 0) return { source: 'unknown' };
  const blobs = new BlobReader(cwd);
  const version = async (i: number): Promise<Fingerprint | undefined> => {
    const blob = i < commits.length ? commits[i]!.blob : undefined;
    const bytes = blob ? await blobs.read(blob, commits.slice(i, i + BLOB_CHUNK).map((c) => c.blob)) : undefined;
    return bytes ? fingerprintOf(bytes, file) : undefined; // deleted in that commit, or before the first
  };
  const current = await fingerprintOf(readFileSync(file), file);
  let newer = await version(0);
  // A rotation not committed yet: the file's own lastmodified is when it was written.
  if (current && newer && newDataKey(newer, current)) {
    const written = new Date(metadata.lastModified);
    return Number.isNaN(written.getTime()) ? { source: 'unknown' } : { since: written, source: 'lastmodified' };
  }
  // Everything seen of the current data key: a version in between that shares nothing (the file deleted, or
  // swapped for another encrypted file, then restored) does not make the key new when an older version has it.
  const seen: Fingerprint = { values: new Set(), wrapped: new Set() };
  if (newer) absorb(seen, newer);
  for (let i = 0; i < commits.length; i++) {
    let older = await version(i + 1);
    if (newer && newDataKey(older, newer)) {
      let earlier = i + 2;
      let found: Fingerprint | undefined;
      for (; earlier <= commits.length && !found; earlier++) {
        const candidate = await version(earlier);
        if (candidate && !newDataKey(candidate, seen)) found = candidate;
      }
      if (!found) return { since: commits[i]!.time, source: 'git' };
      i = earlier - 2;
      older = found;
      absorb(seen, found);
    } else if (older && (!newer || !newDataKey(older, newer))) absorb(seen, older);
    newer = older;
  }
  return { source: 'unknown' };
}

function absorb(into: Fingerprint, version: Fingerprint): void {
  for (const v of version.values) into.values.add(v);
  for (const w of version.wrapped) into.wrapped.add(w);
}

/**
 * `git log --format=%x00%ct --raw` output: each commit's time and the file's
 * blob after it (none when deleted), newest first. Along first parents, a
 * merge shows its change against the branch it was merged into: a key
 * rotated on a side branch counts from when it reached this one.
 */
function commitsOf(log: string): { time: Date; blob: string | undefined }[] {
  return log.split('\0').filter((chunk) => chunk.trim()).map((chunk) => {
    const [seconds, ...rest] = chunk.split('\n');
    // `:100644 100644 OLD NEW M\tpath`: the new blob, all zeros when the file was deleted.
    const raw = rest.find((line) => line.startsWith(':'))?.split(/\s+/)[3];
    return { time: new Date(Number(seconds) * 1000), blob: raw && !/^0+$/.test(raw) ? raw : undefined };
  });
}

/** Blobs a walk will want next are read together, by one `git cat-file --batch` per chunk, not one process per commit. */
const BLOB_CHUNK = 32;

class BlobReader {
  private readonly cache = new Map<string, Buffer>();
  constructor(private readonly cwd: string) {}

  async read(blob: string, upcoming: (string | undefined)[]): Promise<Buffer | undefined> {
    if (!this.cache.has(blob)) {
      this.cache.clear(); // the walk only goes back: earlier chunks are done with
      const wanted = [...new Set(upcoming.filter((b): b is string => b !== undefined))];
      const out = git(['cat-file', '--batch'], this.cwd, wanted.join('\n') + '\n');
      let at = 0;
      for (const id of wanted) {
        const headerEnd = out.indexOf(0x0a, at);
        const header = out.subarray(at, headerEnd).toString('latin1').split(' ');
        if (header[1] === 'missing' || header.length < 3) {
          at = headerEnd + 1;
          continue;
        }
        const size = Number(header[2]);
        this.cache.set(id, out.subarray(headerEnd + 1, headerEnd + 1 + size));
        at = headerEnd + 1 + size + 1;
      }
    }
    return this.cache.get(blob);
  }
}

/** Whether the data key is older than `days` at `now`; undefined when its age is unknown. */
export function olderThan(keyDate: DataKeyDate, days: number, now: Date): boolean | undefined {
  const since = trusted(keyDate, now);
  if (!since) return undefined;
  return now.getTime() - since.getTime() > days * DAY_MS;
}
