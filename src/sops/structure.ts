import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { MapNode, Node, Scalar } from '../tree.js';
import { looksEncrypted } from '../enc-string.js';
import { plaintextBytes } from '../values.js';

/**
 * The `tsops_structure` metadata field: an HMAC, under a key derived from the
 * data key, over the shape of the encrypted documents (key names, order,
 * nesting, documents, every value). It closes what the sops MAC leaves open;
 * sops ignores the field. Design: docs/structure-binding.md.
 */

export const STRUCTURE_FIELD = 'tsops_structure';
const VERSION = 'v1';

export type StructureCheck = 'ok' | 'mismatch' | 'unknown-version';

function bindingKey(dataKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'tsops structure v1', 32));
}

/**
 * Writes the canonical encoding of the documents into `out` (see the design
 * document). Text is gathered into large strings before it reaches the hash:
 * one native call per value would cost more than the hashing itself.
 */
class CanonicalEncoder {
  private pending: string[] = [];
  private pendingLength = 0;

  constructor(private readonly out: { update(data: string | Uint8Array, encoding?: 'utf8'): unknown }) {}

  documents(docs: readonly MapNode[]): void {
    for (const doc of docs) {
      this.text('D');
      this.node(doc);
    }
    this.flush();
  }

  private node(node: Node): void {
    if (node.kind === 'map') {
      let count = 0;
      for (const item of node.items) if (item.kind === 'entry') count++;
      this.text(`M${count}:`);
      for (const item of node.items) {
        if (item.kind !== 'entry') continue;
        this.text(`K${Buffer.byteLength(item.key, 'utf8')}:${item.key}`);
        this.node(item.value);
      }
    } else if (node.kind === 'list') {
      let count = 0;
      for (const item of node.items) if (item.kind !== 'comment') count++;
      this.text(`L${count}:`);
      for (const item of node.items) if (item.kind !== 'comment') this.node(item);
    } else {
      this.scalar(node);
    }
  }

  private scalar(node: Scalar): void {
    if (node.type === 'str' && typeof node.value === 'string' && looksEncrypted(node.value)) {
      this.text(`E${Buffer.byteLength(node.value, 'utf8')}:${node.value}`);
      return;
    }
    // A plaintext value enters as the text sops hashes for it, without its type: .env and INI
    // hold only strings, and a file written in one store and read in another must still verify.
    const bytes = plaintextBytes(node);
    this.text(`P${bytes.length}:`);
    this.flush();
    this.out.update(bytes);
    bytes.fill(0);
  }

  private text(part: string): void {
    this.pending.push(part);
    this.pendingLength += part.length;
    if (this.pendingLength > 1 << 16) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.out.update(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLength = 0;
  }
}

function digest(docs: readonly MapNode[], dataKey: Uint8Array): Buffer {
  const key = bindingKey(dataKey);
  try {
    const hmac = createHmac('sha256', key);
    new CanonicalEncoder(hmac).documents(docs);
    return hmac.digest();
  } finally {
    key.fill(0);
  }
}

/** Whether a stored binding is one this tsops checks: any other (stripped, or an unknown version) protects nothing. */
export function isCheckedBinding(stored: string | undefined): boolean {
  return stored !== undefined && stored.startsWith(`${VERSION}:`);
}

/** The field's value for documents whose values are already encrypted. */
export function structureBinding(encryptedDocs: readonly MapNode[], dataKey: Uint8Array): string {
  return `${VERSION}:${digest(encryptedDocs, dataKey).toString('base64')}`;
}

/** Checks a stored binding against the documents as read (still encrypted). */
export function checkStructureBinding(stored: string, encryptedDocs: readonly MapNode[], dataKey: Uint8Array): StructureCheck {
  const colon = stored.indexOf(':');
  if (colon < 0 || stored.slice(0, colon) !== VERSION) return 'unknown-version';
  const expected = Buffer.from(stored.slice(colon + 1), 'base64');
  const actual = digest(encryptedDocs, dataKey);
  return expected.length === actual.length && expected.toString('base64') === stored.slice(colon + 1) && timingSafeEqual(expected, actual) ? 'ok' : 'mismatch';
}
