import { existsSync, readFileSync } from 'node:fs';
import { aboutFile, FileAlreadyEncryptedError, UsageError } from '../../errors.js';
import { emitAs, loadFormat } from '../../formats/format.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { readInput } from '../../io/input.js';
import { recordAudit } from '../../audit/index.js';
import { keyIdentity } from '../../keys/masterkey.js';
import { decryptDocument, encryptDocument, forgetDecrypted, reencryptDocument, type DecryptedDocument, type EncryptSettings } from '../../sops/index.js';
import type { ParsedFile } from '../../tree.js';
import { logTo, warn, writeOut, type CliContext } from '../context.js';
import { decryptionOrder, indentOf, inputFormat, keyOptions, outputFormat, type CommonFlags, type KeyFlags } from '../options.js';
import { resolveEncryptSettings, storeIndent } from '../settings.js';

export interface EncryptFlags extends CommonFlags, KeyFlags {
  inPlace?: boolean;
  output?: string;
  /** Opt-in: reuse the data key of the encrypted file already at the target, for a minimal diff. */
  reuseDataKey?: boolean;
  /** The default; kept so existing scripts still run. */
  fresh?: boolean;
}

export async function encryptCommand(file: string | undefined, flags: EncryptFlags, ctx: CliContext): Promise<number> {
  const stdin = file === undefined || file === '-';
  if (flags.inPlace && flags.output) throw new UsageError('--in-place and --output cannot be used together');
  if (flags.inPlace && stdin) throw new UsageError('--in-place needs a file, not standard input');
  const name = stdin ? (flags.filenameOverride ?? 'stdin') : file;
  const inFormat = inputFormat(flags, file);
  const outFormat = outputFormat(flags, inFormat);
  const parsed = (await loadFormat(inFormat)).parse(await readInput(file), { file: name });
  if (parsed.metadata) throw new FileAlreadyEncryptedError({ file: name });
  const { settings, stores } = await resolveEncryptSettings(flags.filenameOverride ?? name, flags, ctx);
  const keys = keyOptions(flags, ctx.env, logTo(ctx));
  const target = flags.inPlace ? file : flags.output;

  const previous = target && flags.reuseDataKey && !flags.fresh && outFormat === inFormat ? await openPrevious(target, inFormat, settings, flags, ctx) : undefined;
  try {
    await aboutFile(name, async () => (previous ? reencryptDocument(parsed, previous) : encryptDocument(parsed, settings, keys)));
  } finally {
    if (previous) forgetDecrypted(previous);
  }
  await recordAudit(ctx, 'encrypt', name, previous ? previous.metadata.keyGroups.flat().map(keyIdentity) : settings.keyGroups.flat().map(keyIdentity));
  for (const w of parsed.warnings ?? []) warn(ctx, w);
  const output = await emitAs(parsed, outFormat, storeIndent(stores, outFormat, indentOf(flags)), name);
  if (target) await writeFileAtomic(target, output);
  else await writeOut(ctx, output);
  return 0;
}

/**
 * With --reuse-data-key: the encrypted file already at the output path,
 * decrypted, when it uses the same master keys: its data key and the
 * ciphertext of unchanged values are kept, so re-encrypting an edited
 * plaintext is a minimal diff. Not the default: anyone who ever knew that
 * data key (whoever created the file) can read the new values.
 */
async function openPrevious(path: string, format: ParsedFile['format'], settings: EncryptSettings, flags: EncryptFlags, ctx: CliContext): Promise<DecryptedDocument | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    const existing = (await loadFormat(format)).parse(readFileSync(path), { file: path });
    if (!existing.metadata) return undefined;
    const decrypted = await decryptDocument(existing, { forReencryption: true, keys: keyOptions(flags, ctx.env), decryptionOrder: decryptionOrder(flags, ctx.env) });
    const same = JSON.stringify(identities(decrypted.metadata.keyGroups)) === JSON.stringify(settings.keyGroups.map((g) => g.map(keyIdentity).sort()));
    const sameRules = JSON.stringify(decrypted.metadata.rule ?? null) === JSON.stringify(settings.rule ?? decrypted.metadata.rule ?? null) && decrypted.metadata.macOnlyEncrypted === Boolean(settings.macOnlyEncrypted);
    if (same && sameRules) return decrypted;
    forgetDecrypted(decrypted);
  } catch {
    // Not readable with our keys: encrypt afresh.
  }
  return undefined;
}

function identities(groups: import('../../keys/masterkey.js').KeyRecord[][]): string[][] {
  return groups.map((g) => g.map(keyIdentity).sort());
}

