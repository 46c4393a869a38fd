import { execFileSync } from 'node:child_process';
import { MacMismatchError, DecryptionError, NoKeyError, TsopsError } from '../errors.js';
import { formatForPath } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import type { KeyOptions } from '../keys/masterkey.js';
import { decryptDocument, forgetDecrypted } from '../sops/index.js';
import { readMetadata } from '../sops/metadata.js';

export interface GuardViolation {
  file: string;
  problem: string;
  fix: string;
}

/**
 * The pre-commit guard: every staged file that .gitattributes routes through
 * tsops must be encrypted, and its MAC must verify for the staged content when
 * keys are at hand (otherwise its metadata must at least be sound). Reads only
 * the staged blobs.
 */
export async function checkStaged(cwd: string, keys: KeyOptions): Promise<{ checked: string[]; violations: GuardViolation[] }> {
  const staged = execFileSync('git', ['diff', '--cached', '--name-only', '-z', '--diff-filter=ACMR'], { cwd, encoding: 'utf8' }).split('\0').filter(Boolean);
  if (staged.length === 0) return { checked: [], violations: [] };
  const attrs = execFileSync('git', ['check-attr', '-z', 'diff', '--', ...staged], { cwd, encoding: 'utf8' }).split('\0');
  const covered: string[] = [];
  for (let i = 0; i + 2 < attrs.length; i += 3) if (attrs[i + 2] === 'tsops') covered.push(attrs[i]!);
  const violations: GuardViolation[] = [];
  for (const file of covered) {
    const blob = execFileSync('git', ['show', `:${file}`], { cwd, maxBuffer: 1 << 30 });
    const problem = await checkBlob(file, blob, keys);
    if (problem) violations.push({ file, ...problem });
  }
  return { checked: covered, violations };
}

async function checkBlob(file: string, blob: Buffer, keys: KeyOptions): Promise<{ problem: string; fix: string } | undefined> {
  let parsed;
  try {
    ({ parsed } = await readStore(blob, formatForPath(file), { file, needMetadata: true }));
  } catch (e) {
    return { problem: `cannot be read (${(e as Error).message})`, fix: 'fix the file, then encrypt it' };
  }
  if (!parsed.metadata) return { problem: 'is not encrypted', fix: `tsops encrypt -i ${file} && git add ${file}` };
  try {
    readMetadata(parsed.metadata);
    const decrypted = await decryptDocument(parsed, { keys });
    forgetDecrypted(decrypted);
  } catch (e) {
    if (e instanceof NoKeyError) return undefined; // no keys here: structure checked, MAC cannot be
    if (e instanceof MacMismatchError || e instanceof DecryptionError) return { problem: `does not verify (${e.message})`, fix: `re-encrypt it with tsops (tsops edit ${file}) and stage it again` };
    if (e instanceof TsopsError) return { problem: e.message, fix: 're-encrypt it with tsops' };
    throw e;
  }
  return undefined;
}
