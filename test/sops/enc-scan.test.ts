/** The linear ENC scanner gives exactly the captures of the backtracking patterns it replaced. */
import { describe, expect, it } from 'vitest';
import { isEncComment, scanEnc } from '../../src/sops/cipher.js';

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
      expect(isEncComment(text, true), JSON.stringify(text)).toBe(JSON_COMMENT.test(text));
      if (m) matched++;
    }
    // The generator must reach the interesting cases, not only refusals.
    expect(matched).toBeGreaterThan(100);
  });

  it('takes linear time on the line crafted against the old pattern', { timeout: 30_000 }, () => {
    const crafted = 'ENC[AES256_GCM,data:' + ',iv:,tag:,type:'.repeat(200_000);
    expect(scanEnc(crafted)).toBeUndefined();
    expect(isEncComment(crafted)).toBe(false);
    expect(scanEnc(`${crafted}x]`)?.type).toBe('x');
  });
});
