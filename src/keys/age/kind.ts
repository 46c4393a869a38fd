import { TsopsError } from '../../errors.js';
import { armor, dearmor } from './armor.js';
import { bech32Decode } from './bech32.js';
import { decryptX25519, encryptX25519 } from './x25519.js';
import { gatherIdentities, tryDefaultAgeKeysFile, type AgeIdentities, type IdentitySource } from './identities.js';
import type { KeyOptions, KeyRecord, KeySpec, MasterKeyKind } from '../masterkey.js';

type RecipientKind = 'x25519' | 'hybrid';

/**
 * age recipients (docs/format.md#age): the secret is one armored age file per
 * recipient. X25519, the common case, runs on Node's crypto; the post-quantum
 * hybrid goes through the age library, loaded only when needed.
 */
export function createAgeKeyKind(options: KeyOptions = {}): MasterKeyKind {
  const env = options.env ?? process.env;
  // Gathered once: SOPS_AGE_KEY_CMD may prompt or be slow, and every key of a file shares the result.
  let gathered: Promise<AgeIdentities> | undefined;
  const identities = (recipient: string): Promise<AgeIdentities> => (gathered ??= gatherIdentities(env, options.identities?.age, recipient));

  return {
    type: 'age',

    async wrap(spec: KeySpec, secret: Uint8Array): Promise<KeyRecord> {
      if (spec.type !== 'age') throw new TsopsError(`not an age key: ${spec.type}`);
      const recipient = spec.recipient.trim();
      const kind = classifyRecipient(recipient);
      const enc = kind === 'x25519' ? armor(encryptX25519(secret, recipient) ?? tooLarge()) : await encryptWithLibrary(secret, recipient);
      return { type: 'age', fields: { recipient, enc } };
    },

    async unwrap(record: KeyRecord): Promise<Uint8Array> {
      const recipientField = record.fields['recipient'];
      const recipient = typeof recipientField === 'string' ? recipientField.trim() : '';
      const enc = record.fields['enc'];
      if (typeof enc !== 'string' || enc.trim() === '') throw new TsopsError('malformed age enc: missing');
      let file: Buffer;
      try {
        file = dearmor(enc);
      } catch {
        throw new TsopsError('malformed age enc: not an armored age file');
      }
      try {
        const found = await identities(recipient);
        if (found.x25519.length + found.hybrid.length === 0) throw new TsopsError(noIdentitiesMessage(found.sources, env));
        let secret: Uint8Array | undefined;
        try {
          secret = decryptX25519(file, found.x25519);
        } catch (e) {
          throw new TsopsError(`malformed age enc: ${(e as Error).message}`);
        }
        if (!secret && found.hybrid.length) secret = await decryptWithLibrary(file, found.hybrid);
        if (secret) return secret;
        throw new TsopsError(`no age identity for recipient ${recipient || '(none recorded)'}: ${describeTried(found.sources)}`);
      } finally {
        file.fill(0);
      }
    },
  };
}

/** The recipient forms of docs/format.md#age, checked in sops's order. */
function classifyRecipient(recipient: string): RecipientKind {
  if (recipient.startsWith('age1pq1')) return 'hybrid';
  if (recipient.startsWith('age1') && recipient.slice(4).includes('1')) {
    throw new TsopsError(`age plugin recipients are not supported yet: ${recipient}`);
  }
  if (recipient.startsWith('age1')) {
    const decoded = bech32Decode(recipient);
    if (!decoded || decoded.hrp !== 'age' || decoded.data.length !== 32) throw new TsopsError(`invalid age recipient ${recipient}`);
    return 'x25519';
  }
  if (recipient.startsWith('ssh-')) throw new TsopsError(`SSH age recipients are not supported yet: ${recipient.split(' ')[0]} key`);
  throw new TsopsError(`invalid age recipient ${recipient}`);
}

function tooLarge(): never {
  throw new TsopsError('the secret is too large for a single age chunk');
}

async function encryptWithLibrary(secret: Uint8Array, recipient: string): Promise<string> {
  const age = await import('age-encryption');
  const encrypter = new age.Encrypter();
  try {
    encrypter.addRecipient(recipient);
  } catch {
    throw new TsopsError(`invalid age recipient ${recipient}`);
  }
  const file = await encrypter.encrypt(secret);
  const text = age.armor.encode(file);
  return text.endsWith('\n') ? text : `${text}\n`;
}

async function decryptWithLibrary(file: Uint8Array, identities: string[]): Promise<Uint8Array | undefined> {
  const age = await import('age-encryption');
  const decrypter = new age.Decrypter();
  try {
    for (const identity of identities) decrypter.addIdentity(identity);
  } catch {
    throw new TsopsError('malformed age post-quantum identity');
  }
  try {
    return await decrypter.decrypt(file, 'uint8array');
  } catch (e) {
    if (/no identity matched/i.test((e as Error).message)) return undefined;
    throw new TsopsError('malformed age enc: the age library could not decrypt it');
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function describeTried(sources: IdentitySource[]): string {
  const used = sources.filter((s) => s.count > 0);
  const total = used.reduce((n, s) => n + s.count, 0);
  let text = `tried ${plural(total, 'identity', 'identities')} from ${used.map((s) => s.name).join(', ')}`;
  const plugins = sources.reduce((n, s) => n + s.skippedPlugins, 0);
  if (plugins) text += `; skipped ${plural(plugins, 'plugin identity', 'plugin identities')} (not supported)`;
  return text;
}

function noIdentitiesMessage(sources: IdentitySource[], env: NodeJS.ProcessEnv): string {
  const defaultFile = tryDefaultAgeKeysFile(env);
  const hint = defaultFile ? `set SOPS_AGE_KEY_FILE or create ${defaultFile}` : 'set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY';
  const plugins = sources.reduce((n, s) => n + s.skippedPlugins, 0);
  const skipped = plugins ? `; skipped ${plural(plugins, 'plugin identity', 'plugin identities')} (not supported)` : '';
  return `no age identities found (${hint})${skipped}`;
}
