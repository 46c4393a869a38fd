/**
 * tsops's own knowledge: the values of the encrypted files the committer can
 * open. The same text pasted in plaintext elsewhere is the surest sign of a
 * leak. Values are kept only as keyed hashes (HMAC-SHA256 under a key made
 * for this run), so the set can be compared against without holding the
 * secrets; each plaintext buffer is zeroed once hashed.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { formatForPath } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import { storeNamed } from '../formats/registry.js';
import type { KeyKind } from '../keys/kind.js';
import { KEY_KINDS } from '../keys/registry.js';
import type { KeyOptions } from '../keys/masterkey.js';
import { readMetadata, writeMetadata } from '../sops/metadata.js';
import { OpenedFile } from '../sops/opened-file.js';
import { DEFAULT_RULE, EncryptionPolicy } from '../sops/rules.js';
import { describePath, walk } from '../sops/tree-crypto.js';

const UNATTENDED = new Set((KEY_KINDS as readonly KeyKind[]).filter((kind) => kind.unattended).map((kind) => kind.type));

/** Shorter values (`true`, `8080`, `admin`) are everywhere; only longer ones are a signal. */
export const MIN_KNOWN_LENGTH = 8;
/** The marker every sops-encrypted text file carries. */
export const ENCRYPTED_MARKER = 'ENC[AES256_GCM,';

export interface KnownOrigin {
  file: string;
  path: string;
}

export class KnownValues {
  private readonly key = randomBytes(32);
  /** UTF-8 length → digests of the values of that length. */
  private readonly byLength = new Map<number, { digest: Buffer; origin: KnownOrigin }[]>();
  /** Encrypted files whose values could not be read with the keys at hand. */
  readonly unopened: string[] = [];
  readonly opened: string[] = [];

  get size(): number {
    let n = 0;
    for (const list of this.byLength.values()) n += list.length;
    return n;
  }

  /**
   * Adds the encrypted values of one sops file. Only kinds that unwrap unattended (age) are tried:
   * the guard runs on every commit and must neither reach a cloud KMS nor wait
   * for a PGP passphrase; a file with a key group without such a key is
   * skipped (counted as unopened).
   */
  async addEncrypted(file: string, bytes: Buffer, keys: KeyOptions): Promise<void> {
    try {
      const { parsed } = await readStore(bytes, formatForPath(file), { file, needMetadata: true });
      if (!parsed.metadata || storeNamed(parsed.format).singleValued) return;
      const metadata = readMetadata(parsed.metadata);
      const unattended = metadata.keyGroups.map((group) => group.filter((record) => UNATTENDED.has(record.type)));
      if (unattended.some((group) => group.length === 0)) {
        this.unopened.push(file);
        return;
      }
      parsed.metadata = writeMetadata({ ...metadata, keyGroups: unattended });
      (await OpenedFile.open(parsed, { keys })).dispose();
      walk(parsed.documents, new EncryptionPolicy(metadata.rule ?? DEFAULT_RULE), {
        scalar: (node, path, encrypt) => {
          if (encrypt && node.type === 'str' && typeof node.value === 'string') this.add(node.value, { file, path: describePath(path) });
        },
        comment: (node) => node.text,
      });
      this.opened.push(file);
    } catch {
      // No key here, or a file that does not read or verify: the guard's own checks report a broken covered file.
      this.unopened.push(file);
    } finally {
      bytes.fill(0);
    }
  }

  private add(value: string, origin: KnownOrigin): void {
    const plain = Buffer.from(value.trim(), 'utf8');
    try {
      if (plain.length < MIN_KNOWN_LENGTH) return;
      const list = this.byLength.get(plain.length) ?? [];
      list.push({ digest: this.digest(plain), origin });
      this.byLength.set(plain.length, list);
    } finally {
      plain.fill(0);
    }
  }

  private digest(bytes: Buffer): Buffer {
    return createHmac('sha256', this.key).update(bytes).digest();
  }

  /** The encrypted value this candidate text equals, if any. */
  match(candidate: string): KnownOrigin | undefined {
    const length = Buffer.byteLength(candidate, 'utf8');
    const list = this.byLength.get(length);
    if (!list) return undefined;
    const bytes = Buffer.from(candidate, 'utf8');
    try {
      const digest = this.digest(bytes);
      return list.find((entry) => timingSafeEqual(entry.digest, digest))?.origin;
    } finally {
      bytes.fill(0);
    }
  }

  forget(): void {
    this.key.fill(0);
    for (const list of this.byLength.values()) for (const entry of list) entry.digest.fill(0);
    this.byLength.clear();
  }
}

export interface KnownMatch {
  line: number;
  column: number;
  start: number;
  end: number;
  origin: KnownOrigin;
}

const TOKEN_SEPARATORS = /[\s"'`,;=:(){}[\]<>|]+/g;
const ASSIGNMENT = /^\s*(?:export\s+)?[^\s=:]+\s*(?:=|:\s)\s*(.*?)\s*$/;

/**
 * Where the text holds a known value: as a whole token, as a quoted string, as
 * the value side of `KEY=value` / `key: value`, or as the whole line. A value
 * split over several lines is matched only when it is the whole file.
 */
export function knownMatches(text: string, known: KnownValues): KnownMatch[] {
  if (known.size === 0) return [];
  const found: KnownMatch[] = [];
  const whole = text.trim();
  const wholeOrigin = whole.includes('\n') ? known.match(whole) : undefined;
  if (wholeOrigin) {
    const start = text.indexOf(whole);
    return [{ line: lineOf(text, start), column: 0, start, end: start + whole.length, origin: wholeOrigin }];
  }
  let lineStart = 0;
  let lineNumber = 0;
  while (lineStart <= text.length) {
    lineNumber++;
    const eol = text.indexOf('\n', lineStart);
    const lineEnd = eol < 0 ? text.length : eol;
    const line = text.slice(lineStart, lineEnd);
    const hit = matchInLine(line, known);
    if (hit) found.push({ line: lineNumber, column: hit.at, start: lineStart + hit.at, end: lineStart + hit.at + hit.length, origin: hit.origin });
    if (eol < 0) break;
    lineStart = eol + 1;
  }
  return found;
}

function matchInLine(line: string, known: KnownValues): { at: number; length: number; origin: KnownOrigin } | undefined {
  const candidates: { at: number; text: string }[] = [];
  const trimmed = line.trim();
  if (trimmed) candidates.push({ at: line.indexOf(trimmed), text: trimmed });
  const assigned = ASSIGNMENT.exec(line)?.[1];
  if (assigned) {
    const unquoted = assigned.replace(/^(["'`])(.*)\1[,;]?$/, '$2');
    candidates.push({ at: line.lastIndexOf(unquoted), text: unquoted });
  }
  for (const quoted of line.matchAll(/"([^"]*)"|'([^']*)'|`([^`]*)`/g)) {
    const inner = quoted[1] ?? quoted[2] ?? quoted[3] ?? '';
    candidates.push({ at: quoted.index + 1, text: inner });
  }
  let at = 0;
  for (const separator of line.matchAll(TOKEN_SEPARATORS)) {
    if (separator.index > at) candidates.push({ at, text: line.slice(at, separator.index) });
    at = separator.index + separator[0].length;
  }
  if (at < line.length) candidates.push({ at, text: line.slice(at) });
  for (const candidate of candidates) {
    if (candidate.text.length < MIN_KNOWN_LENGTH) continue;
    const origin = known.match(candidate.text);
    if (origin) return { at: Math.max(0, candidate.at), length: candidate.text.length, origin };
  }
  return undefined;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
