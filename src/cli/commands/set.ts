import { readFileSync } from 'node:fs';
import { aboutFile, ExitCode, UsageError } from '../../errors.js';
import { readStdin } from '../../io/input.js';
import { parseJsonValue, setValue, unsetValue } from '../../edit/set.js';
import { parseTreePath } from '../../sops/treepath.js';
import { say, type CliContext } from '../context.js';
import { decryptionOrder, indentOf, inputFormat, keyOptions, type CommonFlags } from '../options.js';

export interface SetFlags extends CommonFlags {
  valueFile?: string;
  valueStdin?: boolean;
  idempotent?: boolean;
}

export async function setCommand(file: string, pathText: string, value: string | undefined, flags: SetFlags, ctx: CliContext): Promise<number> {
  const sources = [value !== undefined, Boolean(flags.valueFile), Boolean(flags.valueStdin)].filter(Boolean).length;
  if (sources !== 1) throw new UsageError('set needs exactly one value: an argument, --value-file or --value-stdin', ExitCode.InvalidSetFormat);
  const text = flags.valueFile ? readFileSync(flags.valueFile, 'utf8') : flags.valueStdin ? (await readStdin()).toString('utf8') : value!;
  const outcome = await aboutFile(file, async () => setValue({
    file,
    format: inputFormat(flags, file),
    path: parseTreePath(pathText, ExitCode.InvalidSetFormat),
    value: await parseJsonValue(text),
    keys: keyOptions(flags, ctx.env),
    ignoreMac: Boolean(flags.ignoreMac),
    decryptionOrder: decryptionOrder(flags, ctx.env),
    emit: { indent: indentOf(flags) },
  }));
  if (outcome === 'unchanged' && flags.verbose) say(ctx, `${file}: value already set, nothing written`);
  return 0;
}

export async function unsetCommand(file: string, pathText: string, flags: SetFlags, ctx: CliContext): Promise<number> {
  await aboutFile(file, () => unsetValue({
    file,
    format: inputFormat(flags, file),
    path: parseTreePath(pathText, ExitCode.InvalidSetFormat),
    idempotent: Boolean(flags.idempotent),
    keys: keyOptions(flags, ctx.env),
    ignoreMac: Boolean(flags.ignoreMac),
    decryptionOrder: decryptionOrder(flags, ctx.env),
    emit: { indent: indentOf(flags) },
  }));
  return 0;
}

/** sops's legacy `--set '["a"]["b"] <json>'`: the path ends at the first `] `. */
export function splitLegacySet(text: string): { path: string; value: string } {
  const at = text.indexOf('] ');
  if (at < 0) throw new UsageError('--set takes \'["key"] <json value>\'', ExitCode.InvalidSetFormat);
  return { path: text.slice(0, at + 1), value: text.slice(at + 2) };
}
