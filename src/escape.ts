/**
 * Code points a terminal acts on instead of showing: C0 and C1 controls
 * (ESC starts CSI and OSC sequences; C1 has single-byte CSI/OSC), DEL, and the
 * invisible format characters that reorder or hide text (bidi overrides and
 * isolates, zero-width characters, line and paragraph separators, BOM, the
 * interlinear annotation marks). A newline is one of them: a message stays on
 * its one line.
 */
const DANGEROUS = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text from a file, a config or the environment made safe to print to a
 * terminal: each dangerous code point becomes a visible `\xNN` or `\u{NNNN}`.
 * Idempotent. Used for every message tsops writes to stderr and for the
 * messages of its errors; data written to stdout is never passed through it.
 */
export function escapeControl(text: string): string {
  return text.replace(DANGEROUS, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** The same set less C0, which JSON escapes itself (and whose newlines lay JSON out). */
const DANGEROUS_IN_JSON = new RegExp(DANGEROUS.source.replace('\\u0000-\\u001f', ''), 'g');

/** JSON text with those code points written as `\uNNNN` escapes: the same value, nothing a terminal acts on. */
export function jsonForTerminal(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(DANGEROUS_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
