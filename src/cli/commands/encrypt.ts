import { aboutFile, FileAlreadyEncryptedError, UsageError } from '../../errors.js';
import { emitAs, loadFormat } from '../../formats/format.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { readInput } from '../../io/input.js';
import { recordAudit } from '../../audit/index.js';
import { keyIdentity } from '../../keys/masterkey.js';
import { encryptDocument } from '../../sops/index.js';
import { openForKeyReuse } from '../../sops/key-reuse.js';
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

  {
    using previous = target && flags.reuseDataKey && !flags.fresh && outFormat === inFormat ? await openForKeyReuse(target, inFormat, settings, () => ({ keys: keyOptions(flags, ctx.env), decryptionOrder: decryptionOrder(flags, ctx.env) })) : undefined;
    await aboutFile(name, async () => (previous ? previous.reseal(parsed) : encryptDocument(parsed, settings, keys)));
    await recordAudit(ctx, 'encrypt', name, previous ? previous.metadata.keyGroups.flat().map(keyIdentity) : settings.keyGroups.flat().map(keyIdentity));
  }
  for (const w of parsed.warnings ?? []) warn(ctx, w);
  const output = await emitAs(parsed, outFormat, storeIndent(stores, outFormat, indentOf(flags)), name);
  if (target) await writeFileAtomic(target, output);
  else await writeOut(ctx, output);
  return 0;
}
