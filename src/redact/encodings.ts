/**
 * The byte strings a secret value can appear as in a program's output: the
 * value itself and its common encodings. A value that spans lines is also
 * looked for line by line, since output is filtered a line at a time.
 */

/**
 * Values shorter than this (in bytes) are not redacted: hiding every `0` or
 * `abc` would make the output unreadable and says nothing about them anyway.
 */
export const MIN_REDACTED_LENGTH = 4;

/** Scalars that are never secrets however they were stored. */
const NOT_SECRET = new Set(['true', 'false', 'null', 'True', 'False', 'Null', 'TRUE', 'FALSE', 'NULL', '~']);

/** Whether a value is too short or too common to be redacted. */
export function tooWeakToRedact(value: string | Uint8Array): boolean {
  if (typeof value !== 'string') return value.length < MIN_REDACTED_LENGTH;
  return Buffer.byteLength(value, 'utf8') < MIN_REDACTED_LENGTH || NOT_SECRET.has(value);
}

/**
 * Every pattern to hide for one value (none for a value that is too weak;
 * see {@link tooWeakToRedact}). None contains a newline. A value given as
 * bytes (a binary file) that is not UTF-8 gets no text escapes.
 */
export function valuePatterns(value: string | Uint8Array): Buffer[] {
  if (tooWeakToRedact(value)) return [];
  const out: Buffer[] = [];
  const add = (text: string | Buffer): void => {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    if (bytes.length >= MIN_REDACTED_LENGTH && !bytes.includes(0x0a)) out.push(bytes);
  };
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  for (const line of lines(bytes)) {
    add(line);
    // A program printing the line may trim it (YAML and logs do).
    add(trimmed(line));
  }
  for (const encoded of base64Forms(bytes)) add(encoded);
  // xxd -p, od, printf %x, digest-style dumps: both cases.
  const hex = bytes.toString('hex');
  add(hex);
  add(hex.toUpperCase());
  const text = typeof value === 'string' ? value : utf8(bytes);
  if (text !== undefined) {
    const uri = uriEncoded(text);
    if (uri !== undefined) {
      add(uri);
      add(uri.replace(/%20/g, '+'));
      // Spellings other tools use for the same escapes.
      add(uri.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
    }
    const json = JSON.stringify(text).slice(1, -1);
    add(json);
    // Many encoders also escape '/' (PHP, some JSON writers).
    add(json.replace(/\//g, '\\/'));
    // Go's encoding/json (sops's JSON output, and tsops's) escapes HTML characters and line separators.
    add(json.replace(/[&<>\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    // Writers that keep output ASCII escape everything past it.
    add(json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
  bytes.fill(0);
  return dedupe(out);
}

/** The value's lines, without their line break (`\n` or `\r\n`). */
function lines(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    let end = nl < 0 ? bytes.length : nl;
    if (nl >= 0 && end > start && bytes[end - 1] === 0x0d) end--;
    out.push(Buffer.from(bytes.subarray(start, end)));
    if (nl < 0) return out;
    start = nl + 1;
  }
}

function trimmed(line: Buffer): Buffer {
  const blank = (b: number | undefined): boolean => b === 0x20 || b === 0x09;
  let start = 0;
  let end = line.length;
  while (start < end && blank(line[start])) start++;
  while (end > start && blank(line[end - 1])) end--;
  return line.subarray(start, end);
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** encodeURIComponent refuses lone surrogates; such a value has no URL form. */
function uriEncoded(text: string): string | undefined {
  try {
    return encodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Base64 of the value in both alphabets, padded and not; the part of its
 * base64 that depends on the value alone when it sits at any offset inside
 * a longer encoded text (`user:password` in a Basic auth header); and the
 * lines of its base64 wrapped as common tools wrap it.
 */
function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  const padded = bytes.toString('base64');
  out.push(padded, padded.replace(/=+$/, ''));
  const url = bytes.toString('base64url');
  out.push(url, url + '='.repeat(padded.length - url.length));
  for (let offset = 0; offset < 3; offset++) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]);
    const text = shifted.toString('base64');
    // Characters covering only value bits: skip those mixing in the bytes before or after.
    const first = Math.ceil((offset * 8) / 6);
    const last = Math.floor(((offset + bytes.length) * 8) / 6);
    const core = text.slice(first, last);
    out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
    shifted.fill(0);
  }
  // base64(1) and MIME wrap at 76 characters, PEM and openssl at 64: a long value's encoding spans lines, each looked for on its own.
  for (const width of [64, 76]) {
    for (let at = 0; padded.length > width && at < padded.length; at += width) out.push(padded.slice(at, at + width));
  }
  return out;
}

function dedupe(patterns: Buffer[]): Buffer[] {
  const seen = new Set<string>();
  return patterns.filter((p) => {
    const key = p.toString('latin1');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
