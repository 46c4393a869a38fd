import { createInterface } from 'node:readline';
import { ExitCode, TsopsError, UsageError } from '../../errors.js';
import { editFile } from '../../edit/session.js';
import { resolveEditor } from '../../io/editor.js';
import type { CliContext } from '../context.js';
import { say, warn } from '../context.js';
import { decryptionOrder, indentOf, inputFormat, keyOptions, type CommonFlags, type KeyFlags } from '../options.js';
import { resolveEncryptSettings } from '../settings.js';

export interface EditFlags extends CommonFlags, KeyFlags {
  showMasterKeys?: boolean;
}

export async function editCommand(file: string | undefined, flags: EditFlags, ctx: CliContext): Promise<number> {
  if (!file || file === '-') throw new UsageError('edit needs a file', ExitCode.NoFileSpecified);
  const outcome = await editFile({
    file,
    format: inputFormat(flags, file),
    editor: resolveEditor(ctx.env),
    env: ctx.env,
    keys: keyOptions(flags, ctx.env),
    ignoreMac: Boolean(flags.ignoreMac),
    showMasterKeys: Boolean(flags.showMasterKeys),
    decryptionOrder: decryptionOrder(flags, ctx.env),
    emit: { indent: indentOf(flags) },
    newFileSettings: async () => (await resolveEncryptSettings(file, flags, ctx)).settings,
    askReopen: (problem) => askReopen(problem, ctx),
    warn: (line) => warn(ctx, line),
  });
  if (outcome.kind === 'unchanged') {
    throw new TsopsError('file has not changed, nothing written', ExitCode.FileHasNotBeenModified, { file });
  }
  return 0;
}

/** The edit does not parse: say why, then Enter re-opens the editor; end of input or Ctrl+C gives up. */
function askReopen(problem: string, ctx: CliContext): Promise<boolean> {
  say(ctx, problem);
  say(ctx, 'press Enter to re-open the editor (your text is kept), or Ctrl+C to abort');
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    rl.once('line', () => {
      answered = true;
      rl.close();
      resolve(true);
    });
    rl.once('close', () => {
      if (!answered) resolve(false);
    });
  });
}
