import { TsopsError, type ErrorKind } from '../errors.js';
import type { PathStep } from './tree-edit.js';

/**
 * `["key"][0]['other']` as sops reads it (docs/format.md#tree-paths): split on `[`, each piece
 * ends with `]`; a quoted piece is a key (quotes stripped, no unescaping),
 * anything else a decimal list index. A malformed path throws `kind`: the
 * caller says what the path was for (`--extract`, `set`).
 */
export function parseTreePath(text: string, kind: ErrorKind = 'bad-tree-path'): PathStep[] {
  const bad = (why: string): never => {
    throw new TsopsError(`invalid tree path ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text)}: ${why} (expected e.g. ["key"][0])`, kind);
  };
  if (!text.startsWith('[')) bad('it must start with [');
  const steps: PathStep[] = [];
  for (const piece of text.split('[').slice(1)) {
    if (!piece.endsWith(']')) bad('every component must end with ]');
    const inner = piece.slice(0, -1);
    if (inner.startsWith('"') || inner.startsWith("'")) {
      if (inner.length < 2 || inner[inner.length - 1] !== inner[0]) bad('unterminated quoted key');
      steps.push(inner.slice(1, -1));
    } else if (/^\d+$/.test(inner)) {
      steps.push(Number(inner));
    } else {
      bad(`${JSON.stringify(inner.slice(0, 20))} is neither a quoted key nor an index`);
    }
  }
  if (steps.length === 0) bad('it names nothing');
  return steps;
}
