import { createHmac, timingSafeEqual } from 'node:crypto';
import { hkdf } from './aead.js';

/** The age v1 header: the intro line, recipient stanzas, and the MAC over them. */

export const INTRO = 'age-encryption.org/v1';

export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

export interface Header {
  stanzas: Stanza[];
  /** The header text the MAC covers: everything up to and including `---`. */
  macInput: Buffer;
  mac: Buffer;
  payload: Buffer;
}

/** Strict, canonical unpadded base64 as age writes it: one encoding per byte string. */
export function b64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) throw new Error('bad base64 in age header');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64').replace(/=+$/, '') !== text) throw new Error('non-canonical base64 in age header');
  return bytes;
}

export function unpaddedBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** Stanza types and arguments are non-empty runs of visible ASCII (the age spec's VCHAR). */
const STANZA_WORD = /^[\x21-\x7e]+$/;

export function parseHeader(file: Buffer): Header {
  let at = 0;
  const line = (): string => {
    const end = file.indexOf(0x0a, at);
    if (end < 0) throw new Error('truncated age header');
    const text = file.subarray(at, end).toString('latin1');
    at = end + 1;
    return text;
  };
  if (line() !== INTRO) throw new Error('not an age v1 file');
  const stanzas: Stanza[] = [];
  for (;;) {
    const start = at;
    const l = line();
    if (l.startsWith('--- ')) {
      const macInput = file.subarray(0, start + 3);
      return { stanzas, macInput, mac: b64(l.slice(4)), payload: file.subarray(at) };
    }
    if (!l.startsWith('-> ')) throw new Error('malformed age header');
    const words = l.slice(3).split(' ');
    if (!words.every((w) => STANZA_WORD.test(w))) throw new Error('malformed age stanza');
    const [type, ...args] = words;
    const body: Buffer[] = [];
    for (;;) {
      const b = line();
      if (b.length > 64) throw new Error('age stanza body line longer than 64 columns');
      body.push(b64(b));
      if (b.length < 64) break;
    }
    stanzas.push({ type: type!, args, body: Buffer.concat(body) });
  }
}

/** The header text up to `---` for one stanza, its body wrapped at 64 columns (a full last line is followed by an empty one). */
export function headerText(stanza: Stanza): string {
  const body = unpaddedBase64(stanza.body);
  const lines: string[] = [...(body.match(/.{1,64}/g) ?? [])];
  if (body.length % 64 === 0) lines.push('');
  return `${INTRO}\n-> ${[stanza.type, ...stanza.args].join(' ')}\n${lines.join('\n')}\n---`;
}

export function headerMac(fileKey: Uint8Array, macInput: Uint8Array | string): Buffer {
  const hmacKey = hkdf(fileKey, Buffer.alloc(0), 'header');
  try {
    return createHmac('sha256', hmacKey).update(macInput).digest();
  } finally {
    hmacKey.fill(0);
  }
}

export function verifyHeaderMac(fileKey: Uint8Array, header: Header): void {
  const mac = headerMac(fileKey, header.macInput);
  if (mac.length !== header.mac.length || !timingSafeEqual(mac, header.mac)) throw new Error('age header MAC mismatch');
}
