import type { KeyOptions, MasterKeyKind, MasterKeyType } from './masterkey.js';
import { findKeyKind } from './registry.js';

export interface Keyring {
  /** The kind for `type`, created on first use and shared afterwards. Rejects for types tsops cannot use. */
  kind(type: MasterKeyType): Promise<MasterKeyKind>;
}

function unsupported(type: MasterKeyType): Error {
  return new Error(`${type} keys are not supported by tsops`);
}

export function createKeyring(options: KeyOptions = {}): Keyring {
  const kinds = new Map<MasterKeyType, Promise<MasterKeyKind>>();
  return {
    kind(type) {
      let kind = kinds.get(type);
      if (!kind) {
        // Each kind's wrap/unwrap code is imported on first use, so a file without PGP or cloud keys never loads it.
        const keys = findKeyKind(type)?.keys;
        kind = keys ? keys.load(options) : Promise.reject(unsupported(type));
        kinds.set(type, kind);
      }
      return kind;
    },
  };
}
