import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { MapNode, Node, Scalar } from '../tree.js';
import { looksEncrypted } from './cipher.js';
import { plaintextBytes } from './values.js';

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

/** Writes the canonical encoding of the documents into `out` (see the design document). */
class CanonicalEncoder {
  constructor(private readonly out: { update(data: string | Uint8Array): unknown }) {}

  documents(docs: readonly MapNode[]): void {
    for (const doc of docs) {
      this.out.update('D');
      this.node(doc);
    }
  }

  private node(node: Node): void {
    if (node.kind === 'map') {
      const entries = node.items.filter((i) => i.kind === 'entry');
      this.out.update(`M${entries.length}:`);
      for (const entry of entries) {
        this.out.update('K');
        this.bytes(Buffer.from(entry.key, 'utf8'));
        this.node(entry.value);
      }
    } else if (node.kind === 'list') {
      const items = node.items.filter((i): i is Node => i.kind !== 'comment');
      this.out.update(`L${items.length}:`);
      for (const item of items) this.node(item);
    } else {
      this.scalar(node);
    }
  }

  private scalar(node: Scalar): void {
    if (node.type === 'str' && typeof node.value === 'string' && looksEncrypted(node.value)) {
      this.out.update('E');
      this.bytes(Buffer.from(node.value, 'utf8'));
      return;
    }
    this.out.update(`P${valueClass(node)}`);
    const text = plaintextBytes(node);
    this.bytes(text);
    text.fill(0);
  }

  private bytes(data: Buffer): void {
    this.out.update(`${data.length}:`);
    this.out.update(data);
  }
}

/** int and float share a class so that a YAML-to-JSON conversion of an encrypted file still verifies. */
function valueClass(node: Scalar): string {
  switch (node.type) {
    case 'int':
    case 'float':
      return 'n';
    case 'bool':
      return 'b';
    case 'null':
      return 'z';
    default:
      return 't';
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
