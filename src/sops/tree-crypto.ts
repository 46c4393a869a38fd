import { DecryptionError, EncryptionError } from '../errors.js';
import type { Comment, ListNode, MapNode, Scalar } from '../tree.js';
import { looksEncrypted } from '../enc-string.js';
import { open, parseSealed, seal } from './cipher.js';
import { MacHasher } from './mac.js';
import type { EncryptionPolicy } from './rules.js';
import { encType, plaintextBytes, scalarFromPlaintext, ValueFormatError } from '../values.js';

/**
 * Remembers the IV of every value decrypted, keyed by (path, type, plaintext),
 * so that re-encrypting an unchanged value yields the same ciphertext and a
 * one-value change is a one-line diff (docs/format.md#re-encrypting).
 */
export class IvCache {
  private readonly ivs = new Map<string, Buffer>();

  private static key(aad: string, type: string, plaintext: Uint8Array): string {
    return `${aad}\u0000${type}\u0000${Buffer.from(plaintext).toString('base64')}`;
  }

  remember(aad: string, type: string, plaintext: Uint8Array, iv: Buffer): void {
    this.ivs.set(IvCache.key(aad, type, plaintext), iv);
  }

  lookup(aad: string, type: string, plaintext: Uint8Array): Buffer | undefined {
    return this.ivs.get(IvCache.key(aad, type, plaintext));
  }

  clear(): void {
    this.ivs.clear();
  }
}

export interface LeafVisitor {
  scalar(node: Scalar, path: readonly string[], encrypt: boolean): void;
  /** Returns the comment's plaintext, which is what the comment rules look at. */
  comment(node: Comment, path: readonly string[], encrypt: boolean): string;
}

function aadOf(path: readonly string[]): string {
  return path.length === 0 ? ':' : path.join(':') + ':';
}

/** Walks every leaf in document order with sops's path and comment-stack rules (docs/format.md#which-values-are-encrypted). */
export function walk(docs: MapNode[], policy: EncryptionPolicy, visitor: LeafVisitor): void {
  const frames: string[][] = [];
  const visible = (): string[] => (policy.usesComments ? frames.flat() : []);

  const container = (node: MapNode | ListNode, path: string[]): void => {
    const frame: string[] = [];
    frames.push(frame);
    for (const item of node.items) {
      if (item.kind === 'comment') {
        const encrypt = item.text !== '' && policy.shouldEncrypt(path, visible());
        frame.push(visitor.comment(item, path, encrypt));
        continue;
      }
      const childPath = item.kind === 'entry' ? [...path, item.key] : path;
      const value = item.kind === 'entry' ? item.value : item;
      if (value.kind === 'scalar') visitor.scalar(value, childPath, policy.shouldEncrypt(childPath, visible()));
      else container(value, childPath);
      frame.length = 0;
    }
    frames.pop();
  };
  for (const doc of docs) container(doc, []);
}

/** Encrypts every eligible leaf in place; returns the MAC (hex) over the plaintext values. */
export function encryptTree(docs: MapNode[], dataKey: Uint8Array, policy: EncryptionPolicy, macOnlyEncrypted: boolean, ivs?: IvCache): string {
  const mac = new MacHasher(macOnlyEncrypted);
  walk(docs, policy, {
    scalar(node, path, encrypt) {
      if (node.type === 'null') return;
      const plaintext = plaintextBytes(node);
      mac.add(plaintext, encrypt);
      if (encrypt && plaintext.length > 0) {
        const aad = aadOf(path);
        const type = encType(node);
        node.value = seal(dataKey, plaintext, aad, type, ivs?.lookup(aad, type, plaintext));
        node.type = 'str';
      } else if (encrypt && node.type !== 'str' && node.type !== 'bytes') {
        throw new EncryptionError(`cannot encrypt an empty ${node.type} value at ${aadOf(path)}`);
      }
      plaintext.fill(0);
    },
    comment(node, path, encrypt) {
      const text = node.text;
      if (encrypt) {
        const plaintext = Buffer.from(text, 'utf8');
        const aad = aadOf(path);
        node.text = seal(dataKey, plaintext, aad, 'comment', ivs?.lookup(aad, 'comment', plaintext));
        plaintext.fill(0);
      }
      return text;
    },
  });
  return mac.hex();
}

export interface DecryptTreeResult {
  mac: string;
  warnings: string[];
}

/** Decrypts every encrypted leaf in place; returns the MAC (hex) computed over the decrypted values. */
export function decryptTree(
  docs: MapNode[],
  dataKey: Uint8Array,
  policy: EncryptionPolicy,
  macOnlyEncrypted: boolean,
  options: { keepBytes: boolean; ivs?: IvCache },
): DecryptTreeResult {
  const mac = new MacHasher(macOnlyEncrypted);
  const warnings: string[] = [];
  walk(docs, policy, {
    scalar(node, path, encrypt) {
      if (node.type === 'null') return;
      if (!encrypt) {
        const plaintext = plaintextBytes(node);
        mac.add(plaintext, false);
        return;
      }
      if (node.type === 'str' && node.value === '') return;
      if (node.type !== 'str' || typeof node.value !== 'string') {
        throw new DecryptionError(`value at ${describePath(path)} should be encrypted but is a plain ${node.type}`);
      }
      const sealed = parseSealed(node.value);
      if (!sealed) throw new DecryptionError(`value at ${describePath(path)} does not match sops' data format`);
      const aad = aadOf(path);
      const plaintext = openOrFail(dataKey, sealed, aad, path);
      try {
        if (sealed.type === 'comment') throw new DecryptionError(`value at ${describePath(path)} has type comment`);
        const typed = scalarFromPlaintext(plaintext, sealed.type, options.keepBytes);
        mac.add(plaintext, true);
        options.ivs?.remember(aad, sealed.type, plaintext, sealed.iv);
        node.type = typed.type;
        node.value = typed.value;
      } catch (e) {
        if (e instanceof ValueFormatError) throw new DecryptionError(`value at ${describePath(path)}: ${e.message}`);
        throw e;
      } finally {
        plaintext.fill(0);
      }
    },
    comment(node, path, encrypt) {
      if (!encrypt || !looksEncrypted(node.text)) return node.text;
      const sealed = parseSealed(node.text);
      if (!sealed) {
        warnings.push(`a comment under ${describePath(path)} looks encrypted but is malformed; kept as is`);
        return node.text;
      }
      const aad = aadOf(path);
      const plaintext = openOrFail(dataKey, sealed, aad, path, 'comment');
      if (sealed.type !== 'comment') throw new DecryptionError(`comment under ${describePath(path)} has type ${sealed.type.slice(0, 20)}`);
      options.ivs?.remember(aad, 'comment', plaintext, sealed.iv);
      node.text = plaintext.toString('utf8');
      plaintext.fill(0);
      return node.text;
    },
  });
  return { mac: mac.hex(), warnings };
}

function openOrFail(dataKey: Uint8Array, sealed: ReturnType<typeof parseSealed> & object, aad: string, path: readonly string[], what = 'value'): Buffer {
  try {
    return open(dataKey, sealed, aad);
  } catch {
    const where = what === 'comment' ? `comment under ${describePath(path)}` : `value at ${describePath(path)}`;
    throw new DecryptionError(`could not decrypt ${where}: authentication failed (wrong data key, or the value was changed or moved)`);
  }
}

/** `["a"]["b"]`: the same syntax `--extract` takes; names the place, never the value. */
export function describePath(path: readonly string[]): string {
  return path.length === 0 ? 'the top level' : path.map((k) => `[${JSON.stringify(k)}]`).join('');
}

/**
 * The places where the policy wants an encrypted value (or comment) but the
 * file holds plaintext; needs no key. Names paths only, never values.
 */
export function plaintextLeaves(docs: MapNode[], policy: EncryptionPolicy): string[] {
  const found: string[] = [];
  walk(docs, policy, {
    scalar(node, path, encrypt) {
      if (!encrypt || node.type === 'null' || (node.type === 'str' && node.value === '')) return;
      if (node.type !== 'str' || typeof node.value !== 'string' || !parseSealed(node.value)) found.push(describePath(path));
    },
    comment(node, path, encrypt) {
      if (encrypt && !parseSealed(node.text)) found.push(`a comment under ${describePath(path)}`);
      return node.text;
    },
  });
  return found;
}
