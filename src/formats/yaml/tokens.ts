import type { CST } from 'yaml';

export type Tok = CST.Token;
export type SourceTok = CST.SourceToken;

export function isBlockCollection(token: Tok): token is CST.BlockMap | CST.BlockSequence {
  return token.type === 'block-map' || token.type === 'block-seq';
}

/** Whether only indentation precedes the offset on its line. */
export function startsOnNewLine(source: string, offset: number): boolean {
  for (let i = offset - 1; i >= 0; i--) {
    const ch = source[i];
    if (ch === '\n') return true;
    if (ch !== ' ' && ch !== '\t') return false;
  }
  return true;
}

/** End offset of the last token that is not a comment, space or newline (comments after a block belong to the lines after it). */
export function contentEnd(token: unknown): number {
  let max = 0;
  const stack: unknown[] = [token];
  while (stack.length) {
    const t = stack.pop();
    if (!t || typeof t !== 'object') continue;
    if (Array.isArray(t)) {
      stack.push(...t);
      continue;
    }
    const o = t as { offset?: number; source?: unknown; type?: string };
    if (typeof o.offset === 'number' && typeof o.source === 'string' && o.type !== 'comment' && o.type !== 'space' && o.type !== 'newline') {
      let end = o.offset + o.source.length;
      // A block scalar's source is its body, after its header line.
      if (o.type === 'block-scalar') {
        const props = (t as CST.BlockScalar).props as SourceTok[];
        const nl = props.find((p) => p.type === 'newline');
        end = (nl ? nl.offset + nl.source.length : o.offset) + o.source.length;
      }
      max = Math.max(max, end);
    }
    for (const v of Object.values(t)) if (v && typeof v === 'object') stack.push(v);
  }
  return max;
}
