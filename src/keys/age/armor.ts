/** age's ASCII armor (PEM-like, 64 columns, trailing newline). */
export function armor(file: Buffer): string {
  const body = file.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN AGE ENCRYPTED FILE-----\n${body}\n-----END AGE ENCRYPTED FILE-----\n`;
}

/**
 * Reads age's armor as strictly as age does: whitespace only around the
 * armor, LF or CRLF line ends, full 64-column lines but the last (non-empty),
 * canonical padded base64, nothing else.
 */
export function dearmor(text: string): Buffer {
  const lines = text.trim().split(/\r?\n/);
  if (lines.length < 3 || lines[0] !== '-----BEGIN AGE ENCRYPTED FILE-----' || lines[lines.length - 1] !== '-----END AGE ENCRYPTED FILE-----') throw new Error('malformed age armor');
  const bodyLines = lines.slice(1, -1);
  const lastLine = bodyLines[bodyLines.length - 1]!;
  if (bodyLines.slice(0, -1).some((l) => l.length !== 64) || lastLine.length === 0 || lastLine.length > 64) throw new Error('malformed age armor');
  const body = bodyLines.join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw new Error('malformed age armor');
  const bytes = Buffer.from(body, 'base64');
  if (bytes.toString('base64') !== body) throw new Error('malformed age armor: non-canonical base64');
  return bytes;
}
