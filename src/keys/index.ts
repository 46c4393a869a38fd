import type { KeyOptions, MasterKeyKind, MasterKeyType } from './masterkey.js';

export interface Keyring {
  /** The kind for `type`, created on first use and shared afterwards. Rejects for types tsops cannot use. */
  kind(type: MasterKeyType): Promise<MasterKeyKind>;
}

type KindLoader = (options: KeyOptions) => Promise<MasterKeyKind>;

// Each kind's module is imported on first use, so a file without PGP or cloud keys never loads their code.
const loaders: Partial<Record<MasterKeyType, KindLoader>> = {
  age: async (o) => (await import('./age.js')).createAgeKeyKind(o),
  pgp: async (o) => (await import('./pgp.js')).createPgpKeyKind(o),
  kms: async (o) => (await import('./kms.js')).createKmsKeyKind(o),
};

function unsupported(type: MasterKeyType): Error {
  return new Error(`${type} keys are not supported by tsops`);
}

export function createKeyring(options: KeyOptions = {}): Keyring {
  const kinds = new Map<MasterKeyType, Promise<MasterKeyKind>>();
  return {
    kind(type) {
      let kind = kinds.get(type);
      if (!kind) {
        const load = loaders[type];
        kind = load ? load(options) : Promise.reject(unsupported(type));
        kinds.set(type, kind);
      }
      return kind;
    },
  };
}
