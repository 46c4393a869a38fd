import { readFileSync } from 'node:fs';
import { aboutFile, ExitCode, TsopsError, UsageError } from '../../errors.js';
import { readStore } from '../../formats/detect.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { decryptDocument, forgetDecrypted, rotateDocument } from '../../sops/index.js';
import { keyDrift, describeDrift } from '../../rekey/drift.js';
import { say, warn, writeOut, type CliContext } from '../context.js';
import { keysFromFlags, removedIdentities } from '../key-flags.js';
import { decryptionOrder, indentOf, inputFormat, keyOptions, type CommonFlags } from '../options.js';

export interface RotateFlags extends CommonFlags {
  inPlace?: boolean;
  recursive?: boolean;
  jobs?: string;
  output?: string;
  /** `--add-NAME` / `--rm-NAME` per key kind (src/cli/key-flags.ts). */
  [keyChangeFlag: string]: unknown;
}

/** `rotate`: a new data key, every value re-encrypted, master keys optionally added or removed. */
export async function rotateCommand(file: string | undefined, flags: RotateFlags, ctx: CliContext): Promise<number> {
  if (!file) throw new UsageError('rotate needs a file', ExitCode.NoFileSpecified);
  if (flags.recursive) return rotateTree(file, flags, ctx);
  if (flags.inPlace && flags.output) throw new UsageError('--in-place and --output cannot be used together');
  const add = keysFromFlags(flags, 'add-');
  const remove = removedIdentities(flags);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    const code = add.length || remove.length ? ExitCode.CannotChangeKeysFromNonExistentFile : ExitCode.NoFileSpecified;
    throw new TsopsError('no such file', code, { file });
  }
  const output = await aboutFile(file, async () => {
    const { format, parsed } = await readStore(bytes, inputFormat(flags, file), { file, needMetadata: true, exact: Boolean(flags.inputType) });
    // A recipient injected into the metadata would get the new data key too: say so, then go on as sops does.
    const drift = await keyDrift(file, parsed.metadata, { cwd: ctx.cwd, env: ctx.env, ...(flags.config ? { explicitConfig: flags.config } : {}) });
    if (drift) warn(ctx, describeDrift(file, drift));
    const keys = keyOptions(flags, ctx.env);
    const decrypted = await decryptDocument(parsed, { forReencryption: true, ignoreMac: flags.ignoreMac, decryptionOrder: decryptionOrder(flags, ctx.env), keys });
    try {
      await rotateDocument(parsed, decrypted, { add, remove }, keys);
    } finally {
      forgetDecrypted(decrypted);
    }
    return format.emit(parsed, { indent: indentOf(flags) });
  });
  const target = flags.inPlace ? file : flags.output;
  if (target) await writeFileAtomic(target, output);
  else await writeOut(ctx, output);
  return 0;
}

/** `rotate -r DIR`: every encrypted file under DIR, in place, in parallel; one bad file never stops the others. */
async function rotateTree(dir: string, flags: RotateFlags, ctx: CliContext): Promise<number> {
  const { encryptedFiles } = await import('./updatekeys.js');
  const { displayPath, mapLimited } = await import('../../rekey/walk.js');
  const { describeError } = await import('../../errors.js');
  const files = await encryptedFiles([dir], true, (line) => warn(ctx, line));
  const jobs = Math.max(1, Math.min(Number(flags.jobs) || 8, 32));
  const results = await mapLimited(files, jobs, async (f) => {
    try {
      await rotateCommand(f, { ...flags, recursive: false, inPlace: true }, ctx);
      return { file: f, ok: true, detail: '' };
    } catch (e) {
      return { file: f, ok: false, detail: describeError(e).message };
    }
  });
  for (const r of results.filter((x) => !x.ok)) say(ctx, r.detail.includes(r.file) ? r.detail : `${displayPath(r.file, ctx.cwd)}: ${r.detail}`);
  const failed = results.filter((r) => !r.ok).length;
  ctx.stdout.write(`rotate: ${results.length - failed} rotated, ${failed} failed\n`);
  return failed ? 1 : 0;
}
