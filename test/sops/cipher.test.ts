import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { open, parseSealed, seal } from '../../src/sops/cipher.js';

const KEY = Buffer.alloc(32, 'f');

describe('ENC values', () => {
  it('decrypts the published sops vector', () => {
    const sealed = parseSealed('ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]');
    expect(sealed).toBeDefined();
    expect(sealed!.iv.length).toBe(32);
    expect(open(KEY, sealed!, 'bar:').toString()).toBe('foo');
    expect(() => open(KEY, sealed!, '')).toThrow();
  });

  it('writes a 32-byte IV, standard padded base64 and a separate tag', () => {
    const enc = seal(KEY, Buffer.from('hello'), 'a:', 'str');
    expect(enc).toMatch(/^ENC\[AES256_GCM,data:[A-Za-z0-9+/]+=*,iv:[A-Za-z0-9+/]{43}=,tag:[A-Za-z0-9+/]{22}==,type:str\]$/);
  });

  it('refuses malformed strings and non-canonical base64', () => {
    expect(parseSealed('ENC[AES256_GCM,data:oYyi,iv:abc,type:str]')).toBeUndefined();
    expect(parseSealed('ENC[AES256_GCM,data:oY!i,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]')).toBeUndefined();
    expect(parseSealed('plain text')).toBeUndefined();
  });

  it('round-trips any bytes and fails on any flipped ciphertext byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.string(), fc.nat(), (bytes, aad, flip) => {
        const enc = seal(KEY, bytes, aad, 'str');
        const sealed = parseSealed(enc)!;
        expect(new Uint8Array(open(KEY, sealed, aad))).toEqual(bytes);
        const i = flip % sealed.data.length;
        sealed.data[i]! ^= 1;
        expect(() => open(KEY, sealed, aad)).toThrow();
      }),
      { numRuns: 200 },
    );
  });
});

describe('strict base64 in ENC values', () => {
  // The reference: Node decodes leniently, so canonical means "encoding the decoded bytes gives the text back".
  const canonical = (text: string): boolean => Buffer.from(text, 'base64').toString('base64') === text;
  const alphabet = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n.é'.split(''));

  it('accepts exactly the canonical encodings, for every field', () => {
    fc.assert(
      fc.property(fc.string({ unit: alphabet, minLength: 1, maxLength: 16 }), fc.constantFrom('data', 'iv', 'tag'), (text, field) => {
        const fields = { data: 'AA==', iv: 'AAAA', tag: 'AAAAAAAAAAAAAAAAAAAAAA==', [field]: text };
        const sealed = parseSealed(`ENC[AES256_GCM,data:${fields.data},iv:${fields.iv},tag:${fields.tag},type:str]`);
        expect(sealed !== undefined).toBe(canonical(text));
      }),
      { numRuns: 20_000 },
    );
  });
});
