import { InputError, MalformedFileError, TsopsError } from '../../errors.js';
import { readStore } from '../../formats/detect.js';
import { readInput } from '../../io/input.js';
import { isEncrypted } from '../../sops/index.js';
import type { CliContext } from '../context.js';
import { jsonForTerminal } from '../../escape.js';
import { inputFormat, type CommonFlags } from '../options.js';

/** `{"encrypted":true}` for one file, as sops prints it; a JSON array for several or with --json. */
export async function filestatusCommand(files: string[], flags: CommonFlags & { json?: boolean }, ctx: CliContext): Promise<number> {
  if (files.length === 0) throw new TsopsError('filestatus needs at least one file', 'no-file-given');
  const results: { file: string; encrypted: boolean }[] = [];
  for (const file of files) {
    const bytes = await readInput(file);
    let encrypted = false;
    try {
      encrypted = isEncrypted((await readStore(bytes, inputFormat(flags, file), { file, needMetadata: true, exact: Boolean(flags.inputType) })).parsed);
    } catch (e) {
      if (!(e instanceof InputError || e instanceof MalformedFileError)) throw e;
    }
    results.push({ file, encrypted });
  }
  if (files.length === 1 && !flags.json) ctx.stdout.write(`${JSON.stringify({ encrypted: results[0]!.encrypted })}\n`);
  else ctx.stdout.write(`${jsonForTerminal(results)}\n`);
  return 0;
}
