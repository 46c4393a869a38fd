import type { KeyOptions, MasterKeyKind, MasterKeyType } from './masterkey.js';

export interface Keyring {
  kind(type: MasterKeyType): Promise<MasterKeyKind>;
}

// Each kind is loaded on first use: a file without KMS keys never loads the AWS SDK.
const loaders: Partial<Record<MasterKeyType, (options: KeyOptions) => Promise<MasterKeyKind>>> = {
  age: async (o) => (await import('./age.js')).createAgeKeyKind(o),
  pgp: async (o) => (await import('./pgp.js')).createPgpKeyKind(o),
};

export function createKeyring(options: KeyOptions = {}): Keyring {
  const kinds = new Map<MasterKeyType, Promise<MasterKeyKind>>();
  return {
    kind(type) {
      let kind = kinds.get(type);
      if (!kind) {
        const load = loaders[type];
        kind = load ? load(options) : Promise.reject(new Error(`${type} keys are not supported by tsops`));
        kinds.set(type, kind);
      }
      return kind;
    },
  };
}
