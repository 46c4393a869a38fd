import { armor, dearmor, decryptX25519, encryptX25519, parseX25519Identity, type X25519Identity } from './age-native.js';
import { defaultAgeKeysFile, gatherIdentities, type IdentitySource } from './age-identities.js';
import type { KeyOptions, KeyRecord, KeySpec, MasterKeyKind } from './masterkey.js';

/**
 * age recipients (spec §5.1): the data key is one armored age file per
 * recipient. X25519, the common case, runs on Node's crypto; other kinds
 * (post-quantum hybrid) go through the age library, loaded only for them.
 */
export function createAgeKeyKind(options: KeyOptions = {}): MasterKeyKind {
  const env = options.env ?? process.env;
  let loaded: Promise<{ sources: IdentitySource[]; x25519: X25519Identity[]; others: string[] }> | undefined;

  const identities = (recipient: string) =>
    (loaded ??= gatherIdentities(env, options.ageIdentities, recipient).then((sources) => {
      const all = sources.flatMap((s) => s.identities);
      const x25519: X25519Identity[] = [];
      const others: string[] = [];
      for (const id of all) {
        const parsed = parseX25519Identity(id);
        if (parsed) x25519.push(parsed);
        else others.push(id);
      }
      return { sources, x25519, others };
    }));

  return {
    type: 'age',

    async wrap(spec: KeySpec, secret: Uint8Array): Promise<KeyRecord> {
      if (spec.type !== 'age') throw new Error(`not an age key: ${spec.type}`);
      const recipient = spec.recipient.trim();
      checkRecipient(recipient);
      let enc: string;
      const native = recipient.startsWith('age1pq1') ? undefined : encryptX25519(secret, recipient);
      if (native) {
        enc = armor(native);
      } else {
        const age = await import('age-encryption');
        const encrypter = new age.Encrypter();
        try {
          encrypter.addRecipient(recipient);
        } catch {
          throw new Error(`invalid age recipient ${recipient}`);
        }
        enc = age.armor.encode(await encrypter.encrypt(secret));
      }
      return { type: 'age', fields: { recipient, enc: enc.endsWith('\n') ? enc : `${enc}\n` } };
    },

    async unwrap(record: KeyRecord): Promise<Uint8Array> {
      const recipient = typeof record.fields['recipient'] === 'string' ? record.fields['recipient'] : '';
      const enc = record.fields['enc'];
      if (typeof enc !== 'string') throw new Error('malformed age enc');
      let file: Buffer;
      try {
        file = dearmor(enc);
      } catch {
        throw new Error('malformed age enc (not an armored age file)');
      }
      const { sources, x25519, others } = await identities(recipient);
      if (x25519.length + others.length === 0) throw new Error(`no age identities found (set SOPS_AGE_KEY_FILE or create ${defaultAgeKeysFile(env)})`);
      let secret: Uint8Array | undefined;
      try {
        secret = decryptX25519(file, x25519);
      } catch (e) {
        throw new Error(`malformed age enc for ${recipient || 'its recipient'}: ${(e as Error).message}`);
      }
      if (!secret && others.length) secret = await viaLibrary(file, others);
      if (secret) return secret;
      const tried = sources.map((s) => `${s.identities.length} from ${s.name}`).join(', ');
      throw new Error(`no age identity matches recipient ${recipient || '(unknown)'} (tried ${tried})`);
    },
  };
}

async function viaLibrary(file: Uint8Array, identities: string[]): Promise<Uint8Array | undefined> {
  const age = await import('age-encryption');
  const decrypter = new age.Decrypter();
  for (const id of identities) decrypter.addIdentity(id);
  try {
    return await decrypter.decrypt(file, 'uint8array');
  } catch {
    return undefined;
  }
}

function checkRecipient(recipient: string): void {
  if (recipient.startsWith('ssh-')) throw new Error(`SSH recipients are not supported yet: ${recipient.slice(0, 24)}...`);
  if (!recipient.startsWith('age1')) throw new Error(`invalid age recipient ${recipient}`);
  if (!recipient.startsWith('age1pq1') && recipient.slice(4).includes('1')) throw new Error(`age plugin recipients are not supported: ${recipient}`);
}
