/**
 * The text of an encrypted value, `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`
 * (spec §1), as every layer reads it: the cipher opening values, the stores
 * recognising encrypted comments, the guards telling encrypted from plaintext.
 * One grammar, so that no reader accepts a spelling another refuses. Only the
 * text is handled here; base64 and the cipher are src/sops/cipher.ts's.
 */

export const ENC_PREFIX = 'ENC[AES256_GCM,data:';

/** The four fields of an ENC string, as text, before any base64 check. */
export interface EncFields {
  data: string;
  iv: string;
  tag: string;
  type: string;
  /** Index just past the closing `]`. */
  end: number;
}

/** Starts like an encrypted value: what sops tests before treating a value as one. */
export function looksEncrypted(text: string): boolean {
  return text.startsWith('ENC[AES256_GCM,');
}

/**
 * sops's pattern `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`
 * (anchored at the start only; `.` stops at a newline, as in Go) with Go's
 * greedy choice of captures, found by a right-to-left scan: each greedy field
 * ends at the last separator that still leaves room for the ones after it.
 * Linear in the input, where a backtracking engine takes cubic time on a
 * crafted line. `type`, when given, must be the whole type field
 * (`type:comment]`).
 */
export function scanEnc(text: string, type?: string): EncFields | undefined {
  if (!text.startsWith(ENC_PREFIX)) return undefined;
  const newline = text.indexOf('\n');
  const line = newline < 0 ? text : text.slice(0, newline);
  let typeAt: number;
  let end: number;
  if (type === undefined) {
    end = line.lastIndexOf(']');
    typeAt = end < 0 ? -1 : line.lastIndexOf(',type:', end - 7);
  } else {
    typeAt = line.lastIndexOf(`,type:${type}]`);
    end = typeAt + 6 + type.length;
  }
  if (typeAt < 0) return undefined;
  const tagAt = line.lastIndexOf(',tag:', typeAt - 6);
  if (tagAt < 0) return undefined;
  const ivAt = line.lastIndexOf(',iv:', tagAt - 5);
  if (ivAt < ENC_PREFIX.length + 1) return undefined;
  return {
    data: line.slice(ENC_PREFIX.length, ivAt),
    iv: line.slice(ivAt + 4, tagAt),
    tag: line.slice(tagAt + 5, typeAt),
    type: line.slice(typeAt + 6, end),
    end: end + 1,
  };
}

/**
 * The fields of an encrypted value: the captures of {@link scanEnc}, found
 * first by a left-to-right split for what sops and tsops write (one `]` at the
 * very end, no `,` inside a field, one line), which gives the same captures at a fraction
 * of the cost, as decryption does this once per value.
 */
export function encFields(text: string): EncFields | undefined {
  if (!text.startsWith(ENC_PREFIX)) return undefined;
  const ivAt = text.indexOf(',iv:', ENC_PREFIX.length);
  const tagAt = text.indexOf(',tag:', ivAt);
  const typeAt = text.indexOf(',type:', tagAt);
  const end = text.indexOf(']', typeAt);
  // No field empty, no `,` inside one, no newline: then the first separators are the last ones too.
  if (
    ivAt > ENC_PREFIX.length && tagAt > ivAt + 4 && typeAt > tagAt + 5 && end > typeAt + 6 && end === text.length - 1 &&
    text.indexOf(',', ENC_PREFIX.length) === ivAt && text.indexOf(',', ivAt + 1) === tagAt && text.indexOf(',', tagAt + 1) === typeAt &&
    text.indexOf(',', typeAt + 1) < 0 && text.indexOf('\n') < 0
  ) {
    return { data: text.slice(ENC_PREFIX.length, ivAt), iv: text.slice(ivAt + 4, tagAt), tag: text.slice(tagAt + 5, typeAt), type: text.slice(typeAt + 6, end), end: end + 1 };
  }
  return scanEnc(text);
}

/** An encrypted comment as sops's YAML store recognises one (the value grammar with type `comment`). */
export function isEncComment(text: string): boolean {
  return scanEnc(text, 'comment') !== undefined;
}

/**
 * An encrypted comment in the JSON stores' stricter form: nothing after the
 * `]` and no `,` or `]` inside the fields.
 */
export function isStrictEncComment(text: string): boolean {
  const suffix = ',type:comment]';
  if (!text.startsWith(ENC_PREFIX) || !text.endsWith(suffix) || text.length < ENC_PREFIX.length + suffix.length) return false;
  const middle = text.slice(ENC_PREFIX.length, text.length - suffix.length);
  const parts = middle.split(',');
  return !middle.includes(']') && parts.length === 3 && parts[1]!.startsWith('iv:') && parts[2]!.startsWith('tag:');
}

/** The ENC string holding these fields (already base64 text). */
export function encString(data: string, iv: string, tag: string, type: string): string {
  return `${ENC_PREFIX}${data},iv:${iv},tag:${tag},type:${type}]`;
}
