import { readFileSync } from 'node:fs';
import { recordAudit } from '../../audit/index.js';
import { aboutFile, UsageError } from '../../errors.js';
import { readStdin } from '../../io/input.js';
import { parseJsonValue, setValue, unsetValue } from '../../edit/set.js';
import { parseTreePath } from '../../sops/treepath.js';
import { say, type CliContext } from '../context.js';
import { decryptionOrder, indentOf, inputFormat, keyOptions, outputFormat, type CommonFlags } from '../options.js';

export interface SetFlags extends CommonFlags {
  valueFile?: boolean;
  valueStdin?: boolean;
  idempotent?: boolean;
  inPlace?: boolean;
}

/**
 * `set FILE PATH VALUE`, as sops 3.10+: `--value-file` makes VALUE the path of
 * a file holding the JSON value, `--value-stdin` reads it from standard input
 * (no VALUE then). The file is always rewritten unless `--idempotent` and the
 * value is already there; `--output-type` rewrites it in that format.
 */
export async function setCommand(file: string | undefined, pathText: string | undefined, third: string | undefined, flags: SetFlags, ctx: CliContext): Promise<number> {
  if (flags.valueFile && flags.valueStdin) throw new UsageError('--value-file and --value-stdin are mutually exclusive', 'bad-usage');
  if (flags.valueStdin ? file === undefined || pathText === undefined || third !== undefined : third === undefined) {
    throw new UsageError(flags.valueStdin ? 'set --value-stdin takes a file and a path (the value comes from standard input)' : 'set needs a file, a path and a value', 'no-file-given');
  }
  const text = flags.valueStdin ? (await readStdin()).toString('utf8') : flags.valueFile ? await aboutFile(third, async () => readFileSync(third!, 'utf8')) : third!;
  const format = inputFormat(flags, file);
  const keys = { ...keyOptions(flags, ctx.env), unwrappedBy: [] as string[] };
  const outcome = await aboutFile(file, async () => setValue({
    file: file!,
    format,
    outputFormat: outputFormat(flags, format),
    path: parseTreePath(pathText!, 'bad-set-argument'),
    value: await parseJsonValue(text),
    idempotent: Boolean(flags.idempotent),
    keys,
    ignoreMac: Boolean(flags.ignoreMac),
    decryptionOrder: decryptionOrder(flags, ctx.env),
    emit: { indent: indentOf(flags) },
  }));
  await recordAudit(ctx, 'set', file!, keys.unwrappedBy);
  if (outcome === 'unchanged' && flags.verbose) say(ctx, `${file}: value already set, nothing written`);
  return 0;
}

export async function unsetCommand(file: string, pathText: string, flags: SetFlags, ctx: CliContext): Promise<number> {
  const format = inputFormat(flags, file);
  const keys = { ...keyOptions(flags, ctx.env), unwrappedBy: [] as string[] };
  await aboutFile(file, () => unsetValue({
    file,
    format,
    outputFormat: outputFormat(flags, format),
    path: parseTreePath(pathText, 'bad-set-argument'),
    idempotent: Boolean(flags.idempotent),
    keys,
    ignoreMac: Boolean(flags.ignoreMac),
    decryptionOrder: decryptionOrder(flags, ctx.env),
    emit: { indent: indentOf(flags) },
  }));
  await recordAudit(ctx, 'unset', file, keys.unwrappedBy);
  return 0;
}

/** sops's legacy `--set '["a"]["b"] <json>'`: the path ends at the first `] `. */
export function splitLegacySet(text: string): { path: string; value: string } {
  const at = text.indexOf('] ');
  if (at < 0) throw new UsageError('--set takes \'["key"] <json value>\'', 'bad-set-argument');
  return { path: text.slice(0, at + 1), value: text.slice(at + 2) };
}
