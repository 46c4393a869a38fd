import { describe, expect, it } from 'vitest';
import { decryptText, encryptText, throwawayAgeKey } from '../support/pipeline.js';

const key = await throwawayAgeKey();
const roundTrip = async (text: string): Promise<string> => decryptText('yaml', await encryptText('yaml', text, key.recipient), key.identity);

describe('YAML round trips keep what the user wrote', () => {
  it('keeps `...` document end markers, with comments after them', async () => {
    for (const text of ['a: 1\n...\n---\nb: 2\n...\n', '# c\na: 1\n...\n# after\n', '# c\na: 1\n...\n# x\n---\nb: 2\n']) {
      expect(await roundTrip(text)).toBe(text);
    }
  });

  it('keeps an application tag on text that would read as another type', async () => {
    const text = 'services:\n  web:\n    image: !reset null\n    x: !custom foo\n';
    expect(await roundTrip(text)).toBe(text);
  });

  it('reads a flow mapping closed on an indented line', async () => {
    const text = 'a: {b: 1\n }\npaths:\n  x:\n    example: {b: 1,\n      c: 2\n      }\n';
    expect(await roundTrip(text)).toBe(text);
  });
});
