import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decrypter, Encrypter, armor as libArmor, generateIdentity, identityToRecipient } from 'age-encryption';
import { armor, dearmor } from '../../src/keys/age/armor.js';
import { bech32Decode } from '../../src/keys/age/bech32.js';
import { decryptX25519, encryptX25519, parseX25519Identity } from '../../src/keys/age/x25519.js';

describe('age X25519 on node:crypto', () => {
  it('decrypts what the age library encrypts, and the library decrypts what it encrypts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 200 }), async (secret) => {
        const identity = await generateIdentity();
        const recipient = await identityToRecipient(identity);
        const e = new Encrypter();
        e.addRecipient(recipient);
        const fromLib = libArmor.encode(await e.encrypt(secret));
        expect(new Uint8Array(decryptX25519(dearmor(fromLib), [parseX25519Identity(identity)!])!)).toEqual(secret);

        const ours = armor(encryptX25519(secret, recipient)!);
        const d = new Decrypter();
        d.addIdentity(identity);
        expect(await d.decrypt(libArmor.decode(ours), 'uint8array')).toEqual(secret);
      }),
      { numRuns: 25 },
    );
  });

  it('derives the published recipient from the published identity', () => {
    const id = parseX25519Identity('AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7')!;
    expect(id.publicKey).toEqual(bech32Decode('age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun')!.data);
  });

  it('returns undefined for another identity and throws on a damaged file', async () => {
    const [a, b] = [await generateIdentity(), await generateIdentity()];
    const file = encryptX25519(new Uint8Array(32), await identityToRecipient(a))!;
    expect(decryptX25519(file, [parseX25519Identity(b)!])).toBeUndefined();
    const damaged = Buffer.from(file);
    damaged[damaged.length - 1]! ^= 1;
    expect(() => decryptX25519(damaged, [parseX25519Identity(a)!])).toThrow();
    const badMac = Buffer.from(file.toString('latin1').replace(/--- (.)/, (_m, c: string) => `--- ${c === 'A' ? 'B' : 'A'}`), 'latin1');
    expect(() => decryptX25519(badMac, [parseX25519Identity(a)!])).toThrow(/MAC/);
  });

  it('rejects malformed keys and armor', () => {
    expect(parseX25519Identity('AGE-SECRET-KEY-1NOTVALID')).toBeUndefined();
    expect(bech32Decode('age1qqqq')).toBeUndefined();
    expect(() => dearmor('not armor')).toThrow();
  });
});

describe('age keygen on node:crypto', () => {
  it('makes identities the age library accepts, with matching recipients', async () => {
    const { generateX25519 } = await import('../../src/keys/age/x25519.js');
    for (let i = 0; i < 5; i++) {
      const { identity, recipient } = generateX25519();
      expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
      expect(await identityToRecipient(identity)).toBe(recipient);
    }
  });
});
