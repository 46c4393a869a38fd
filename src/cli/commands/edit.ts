import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { recordAudit } from '../../audit/index.js';
import { storeClaimingName } from '../../formats/registry.js';
import { TsopsError, UsageError } from '../../errors.js';
import { editFile } from '../../edit/session.js';
import { resolveEditor } from '../../io/editor.js';
import type { CliContext } from '../context.js';
import { say, warn } from '../context.js';
import { decryptionOrder, indentOf, inputFormat, keyOptions, type CommonFlags, type KeyFlags } from '../options.js';
import { resolveEncryptSettings } from '../settings.js';

export interface EditFlags extends CommonFlags, KeyFlags {
  showMasterKeys?: boolean;
  /** Reached as `tsops FILE` (sops's bare form) rather than `tsops edit FILE`. */
  bare?: boolean;
}

export async function editCommand(file: string | undefined, flags: EditFlags, ctx: CliContext): Promise<number> {
  if (!file || file === '-') throw new UsageError('edit needs a file', 'no-file-given');
  if (flags.bare && !flags.inputType && !existsSync(file) && !hasKnownExtension(file)) await confirmNewFile(file, ctx);
  const keys = { ...keyOptions(flags, ctx.env), unwrappedBy: [] as string[] };
  let outcome: Awaited<ReturnType<typeof editFile>> | undefined;
  try {
    outcome = await editFile({
      file,
      format: inputFormat(flags, file),
      editor: resolveEditor(ctx.env),
      env: ctx.env,
      keys,
      ignoreMac: Boolean(flags.ignoreMac),
      showMasterKeys: Boolean(flags.showMasterKeys),
      decryptionOrder: decryptionOrder(flags, ctx.env),
      emit: { indent: indentOf(flags) },
      newFileSettings: async () => (await resolveEncryptSettings(file, flags, ctx)).settings,
      askReopen: (problem) => askReopen(problem, ctx),
      warn: (line) => warn(ctx, line),
    });
  } finally {
    // The plaintext was shown once the data key was unwrapped, whether or not the edit went on to be saved.
    if (keys.unwrappedBy.length > 0 || outcome?.kind === 'written') await recordAudit(ctx, 'edit', file, keys.unwrappedBy);
  }
  if (outcome.kind === 'unchanged') {
    throw new TsopsError('file has not changed, nothing written', 'unchanged', { file });
  }
  return 0;
}

function hasKnownExtension(file: string): boolean {
  return storeClaimingName(file) !== undefined;
}

/**
 * `tsops WORD` where WORD is no file and has no known extension is more often a
 * mistyped command than a new encrypted file: ask on a terminal, refuse without one.
 */
async function confirmNewFile(file: string, ctx: CliContext): Promise<void> {
  const refuse = (why: string): TsopsError => new TsopsError(`no such file (${why}; \`tsops edit FILE\` creates one)`, 'no-file-given', { file });
  if (!ctx.stdinIsTTY) throw refuse('not a command either');
  ctx.stderr.write(`tsops: ${file} does not exist and is not a command; create it as a new encrypted file? [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    rl.once('line', (line) => {
      resolve(line);
      rl.close();
    });
    rl.once('close', () => resolve(''));
  });
  if (!/^y(es)?$/i.test(answer.trim())) throw refuse('not created');
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
