import { createHash, type Hash } from 'node:crypto';

// SHA-256("sops"): fed first when `mac_only_encrypted` is set (docs/format.md#mac).
const MAC_ONLY_ENCRYPTED_INIT = Buffer.from('8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69', 'hex');

/** SHA-512 over the plaintext of every value in document order, as uppercase hex. */
export class MacHasher {
  private readonly hash: Hash = createHash('sha512');

  constructor(readonly macOnlyEncrypted: boolean) {
    if (macOnlyEncrypted) this.hash.update(MAC_ONLY_ENCRYPTED_INIT);
  }

  add(plaintext: Uint8Array, encrypted: boolean): void {
    if (this.macOnlyEncrypted && !encrypted) return;
    this.hash.update(plaintext);
  }

  hex(): string {
    return this.hash.digest('hex').toUpperCase();
  }
}
