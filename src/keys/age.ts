import { Decrypter, Encrypter, armor } from 'age-encryption';
import { defaultAgeKeysFile, gatherIdentities, type IdentitySource } from './age-identities.js';
import type { KeyOptions, KeyRecord, KeySpec, MasterKeyKind } from './masterkey.js';

const ARMOR_HEADER = '-----BEGIN AGE ENCRYPTED FILE-----';

/** age X25519 recipients (spec §5.1): the data key is one armored age file per recipient. */
export function createAgeKeyKind(options: KeyOptions = {}): MasterKeyKind {
  const env = options.env ?? process.env;
  let sources: Promise<IdentitySource[]> | undefined;

  return {
    type: 'age',

    async wrap(spec: KeySpec, secret: Uint8Array): Promise<KeyRecord> {
      if (spec.type !== 'age') throw new Error(`not an age key: ${spec.type}`);
      const recipient = spec.recipient.trim();
      checkRecipient(recipient);
      const encrypter = new Encrypter();
      try {
        encrypter.addRecipient(recipient);
      } catch {
        throw new Error(`invalid age recipient ${recipient}`);
      }
      const enc = armor.encode(await encrypter.encrypt(secret));
      return { type: 'age', fields: { recipient, enc: enc.endsWith('\n') ? enc : `${enc}\n` } };
    },

    async unwrap(record: KeyRecord): Promise<Uint8Array> {
      const recipient = typeof record.fields['recipient'] === 'string' ? record.fields['recipient'] : '';
      const enc = record.fields['enc'];
      if (typeof enc !== 'string' || !enc.trimStart().startsWith(ARMOR_HEADER)) throw new Error('malformed age enc (not an armored age file)');
      let ciphertext: Uint8Array;
      try {
        ciphertext = armor.decode(enc.trim() + '\n');
      } catch {
        throw new Error('malformed age enc (bad armor)');
      }
      sources ??= gatherIdentities(env, options.ageIdentities, recipient);
      const found = await sources;
      const identities = found.flatMap((s) => s.identities);
      if (identities.length === 0) throw new Error(`no age identities found (set SOPS_AGE_KEY_FILE or create ${defaultAgeKeysFile(env)})`);
      const decrypter = new Decrypter();
      for (const id of identities) decrypter.addIdentity(id);
      try {
        return await decrypter.decrypt(ciphertext, 'uint8array');
      } catch {
        const tried = found.map((s) => `${s.identities.length} from ${s.name}`).join(', ');
        throw new Error(`no age identity matches recipient ${recipient || '(unknown)'} (tried ${tried})`);
      }
    },
  };
}

function checkRecipient(recipient: string): void {
  if (recipient.startsWith('ssh-')) throw new Error(`SSH recipients are not supported yet: ${recipient.slice(0, 24)}...`);
  if (!recipient.startsWith('age1')) throw new Error(`invalid age recipient ${recipient}`);
  if (!recipient.startsWith('age1pq1') && recipient.slice(4).includes('1')) throw new Error(`age plugin recipients are not supported: ${recipient}`);
}
