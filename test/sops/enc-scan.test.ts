/** The one ENC grammar gives exactly the captures of the backtracking patterns it replaced, in linear time. */
import { describe, expect, it } from 'vitest';
import { encFields, encString, isEncComment, isStrictEncComment, looksEncrypted, scanEnc } from '../../src/enc-string.js';
import { formatSealed, parseSealed } from '../../src/sops/cipher.js';

// The patterns as they were: fine on these short inputs, cubic or worse on crafted long ones.
const VALUE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;
const COMMENT = /^ENC\[AES256_GCM,data:.+,iv:.+,tag:.+,type:comment\]/;
const JSON_COMMENT = /^ENC\[AES256_GCM,data:[^,\]]*,iv:[^,\]]*,tag:[^,\]]*,type:comment\]$/;

const PIECES = [',iv:', ',tag:', ',type:', ',type:comment]', ']', 'a', 'b', ',', '\n', ':', ',iv:,tag:,type:comment]'];

/** A small seeded generator, so a failure can be replayed. */
function* inputs(count: number): Generator<string> {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < count; i++) {
    let text = 'ENC[AES256_GCM,data:';
    const length = Math.floor(next() * 14);
    for (let j = 0; j < length; j++) text += PIECES[Math.floor(next() * PIECES.length)];
    yield text;
  }
}

describe('scanEnc', () => {
  it('agrees with the old patterns on 20,000 generated strings', () => {
    let matched = 0;
    for (const text of inputs(20_000)) {
      const m = VALUE.exec(text);
      const fields = scanEnc(text);
      expect(fields && [fields.data, fields.iv, fields.tag, fields.type], JSON.stringify(text)).toEqual(m ? m.slice(1) : undefined);
      expect(isEncComment(text), JSON.stringify(text)).toBe(COMMENT.test(text));
      expect(isStrictEncComment(text), JSON.stringify(text)).toBe(JSON_COMMENT.test(text));
      // The quick split used for every decrypted value finds the same captures as the scan, or leaves the text to it.
      const quick = encFields(text);
      expect(quick && [quick.data, quick.iv, quick.tag, quick.type], JSON.stringify(text)).toEqual(m ? m.slice(1) : undefined);
      expect(looksEncrypted(text)).toBe(true);
      if (m) matched++;
    }
    // The generator must reach the interesting cases, not only refusals.
    expect(matched).toBeGreaterThan(100);
  });

  it('takes linear time on the line crafted against the old pattern', { timeout: 30_000 }, () => {
    const crafted = 'ENC[AES256_GCM,data:' + ',iv:,tag:,type:'.repeat(200_000);
    expect(scanEnc(crafted)).toBeUndefined();
    expect(isEncComment(crafted)).toBe(false);
    expect(isStrictEncComment(crafted)).toBe(false);
    expect(encFields(crafted)).toBeUndefined();
    expect(scanEnc(`${crafted}x]`)?.type).toBe('x');
  });
});

describe('encFields', () => {
  it('agrees with the old pattern on the whole-string form sops writes, with the inputs closed by a bracket', () => {
    let matched = 0;
    for (const open of inputs(20_000)) {
      const text = `${open}]`;
      const m = VALUE.exec(text);
      const fields = encFields(text);
      expect(fields && [fields.data, fields.iv, fields.tag, fields.type], JSON.stringify(text)).toEqual(m ? m.slice(1) : undefined);
      if (m) matched++;
    }
    expect(matched).toBeGreaterThan(1000);
  });

  it('reads back what the cipher writes', () => {
    const sealed = { data: Buffer.from('secret'), iv: Buffer.alloc(32, 7), tag: Buffer.alloc(16, 9), type: 'str' };
    const text = formatSealed(sealed);
    expect(text).toBe(encString(sealed.data.toString('base64'), sealed.iv.toString('base64'), sealed.tag.toString('base64'), 'str'));
    expect(encFields(text)).toEqual({ ...scanEnc(text)!, end: text.length });
    expect(parseSealed(text)).toEqual(sealed);
  });

  it('refuses text that only starts like an encrypted value', () => {
    expect(looksEncrypted('ENC[AES256_GCM,')).toBe(true);
    expect(encFields('ENC[AES256_GCM,')).toBeUndefined();
    expect(looksEncrypted('enc[AES256_GCM,data:a,iv:b,tag:c,type:str]')).toBe(false);
    expect(encFields('ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]\n')).toEqual({ data: 'a', iv: 'b', tag: 'c', type: 'str', end: 42 });
  });
});
