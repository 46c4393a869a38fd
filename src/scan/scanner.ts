/**
 * Scans one file's content for secrets: secretlint's recommended patterns and
 * the values of the encrypted files the user can open. Binary content (a NUL
 * byte in the first 8000 bytes, git's own test, that are not UTF-8 either) is skipped; only the first
 * MAX_SCAN_BYTES of a large file are read. Findings carry a place, a rule and
 * a masked excerpt, never the secret.
 */
import { escapeControl } from '../escape.js';
import { Allowlist, INLINE_MARKER } from './allowlist.js';
import { patternMatches } from './detectors.js';
import { knownMatches, type KnownValues } from './known-values.js';

export const MAX_SCAN_BYTES = 1 << 20;
const BINARY_PROBE = 8000;
export const KNOWN_VALUE_RULE = 'tsops/known-value';

export interface Finding {
  file: string;
  line: number;
  column: number;
  rule: string;
  excerpt: string;
  /** For a known value: where the encrypted original lives (`file ["path"]`). */
  matches?: string;
  /** A name for the value's key in an encrypted file, from the assignment on its line. */
  keyName: string;
}

export interface ScanOutcome {
  findings: Finding[];
  skipped?: 'not-text';
  truncated?: boolean;
  /** Findings the config's allowlist passed over (the config may come from a branch: they are counted aloud). */
  allowed?: number;
}

export interface ScanSettings {
  allowlist: Allowlist;
  known?: KnownValues;
}

/**
 * A NUL byte in the first 8000 bytes that are not UTF-8 text. git's test
 * alone (any NUL) let one NUL byte at the top hide a whole text file of
 * secrets; binary formats also break UTF-8 almost at once.
 */
export function isBinary(bytes: Uint8Array): boolean {
  const probe = bytes.subarray(0, BINARY_PROBE);
  if (!probe.includes(0)) return false;
  try {
    // stream: a character cut by the end of the probe is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(probe, { stream: bytes.length > BINARY_PROBE });
    return false;
  } catch {
    return true;
  }
}

export async function scanContent(file: string, bytes: Uint8Array, settings: ScanSettings): Promise<ScanOutcome> {
  if (isBinary(bytes)) return { findings: [], skipped: 'not-text' };
  const truncated = bytes.length > MAX_SCAN_BYTES;
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, MAX_SCAN_BYTES)).toString('utf8');
  if (truncated) text = text.slice(0, Math.max(0, text.lastIndexOf('\n')));
  const hits: { rule: string; line: number; column: number; start: number; end: number; matches?: string }[] = [];
  for (const m of knownMatches(text, settings.known ?? EMPTY)) hits.push({ ...m, rule: KNOWN_VALUE_RULE, matches: `${m.origin.file} ${m.origin.path}` });
  for (const m of await patternMatches(text, file)) {
    // A known value found by a pattern too is reported once, as the stronger finding.
    if (!hits.some((h) => h.line === m.line && h.start < m.end && m.start < h.end)) hits.push(m);
  }
  const lines = text.split('\n');
  const findings: Finding[] = [];
  let allowed = 0;
  for (const hit of hits) {
    const lineText = lines[hit.line - 1] ?? '';
    if (lineText.includes(INLINE_MARKER)) continue;
    if (settings.allowlist.allows(file, hit.rule)) {
      allowed++;
      continue;
    }
    const lineStart = hit.start - hit.column;
    findings.push({
      file,
      line: hit.line,
      column: hit.column + 1,
      rule: hit.rule,
      excerpt: maskedExcerpt(lineText, hit.column, Math.min(hit.end - lineStart, lineText.length)),
      keyName: keyNameFor(lineText, hit.column, hit.rule),
      ...(hit.matches ? { matches: hit.matches } : {}),
    });
  }
  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return { findings, ...(truncated ? { truncated } : {}), ...(allowed ? { allowed } : {}) };
}

const EMPTY = { size: 0 } as KnownValues;
const MAX_MASK = 16;
/** `NAME=`, `"name": "`, `name => '`: the assignment a value sits in, all an excerpt shows before it. */
const ASSIGNED_TO = /([A-Za-z_][A-Za-z0-9_.-]{0,63}["']?\s*(?:=|:|=>)\s*["'`]?)$/;

/**
 * The name the value is assigned to (nothing else of the line: it may hold
 * another secret no rule knows), then at most the first 4 characters of the
 * match (a quarter of a short one) and the rest as `*`.
 */
export function maskedExcerpt(line: string, start: number, end: number): string {
  const before = ASSIGNED_TO.exec(line.slice(Math.max(0, start - 80), start))?.[1] ?? '';
  const secret = line.slice(start, end);
  const shown = Math.min(4, Math.floor(secret.length / 4));
  const stars = '*'.repeat(Math.min(MAX_MASK, Math.max(4, secret.length - shown)));
  return escapeControl(`${before}${secret.slice(0, shown)}${stars}`);
}

/** `API_KEY = "…"` → `API_KEY`; otherwise a name from the rule (`aws_AWSAccessKeyID`). */
export function keyNameFor(line: string, column: number, rule: string): string {
  const assigned = /([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?:=|:|=>)\s*["'`]?\s*$/.exec(line.slice(0, column));
  const name = assigned?.[1] ?? rule.replace(/^tsops\//, '').replace(/[^A-Za-z0-9]+/g, '_');
  return name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
}
