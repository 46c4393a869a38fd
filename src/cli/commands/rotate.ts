import { readFileSync } from 'node:fs';
import { aboutFile, ExitCode, TsopsError, UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { rotateFile } from '../../rekey/rotate.js';
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
  const output = await aboutFile(file, () =>
    rotateFile(file, bytes, {
      format: inputFormat(flags, file),
      exactFormat: Boolean(flags.inputType),
      changes: { add, remove },
      keys: keyOptions(flags, ctx.env),
      ignoreMac: flags.ignoreMac,
      decryptionOrder: decryptionOrder(flags, ctx.env),
      indent: indentOf(flags),
      config: { cwd: ctx.cwd, env: ctx.env, ...(flags.config ? { explicitConfig: flags.config } : {}) },
      warn: (line) => warn(ctx, line),
    }),
  );
  const target = flags.inPlace ? file : flags.output;
  if (target) await writeFileAtomic(target, output);
  else await writeOut(ctx, output);
  return 0;
}

/** `rotate -r DIR`: every encrypted file under DIR, in place, `--jobs` at a time; one bad file never stops the others. */
async function rotateTree(dir: string, flags: RotateFlags, ctx: CliContext): Promise<number> {
  const [{ encryptedFiles }, { fleetJobs, runFleet }] = await Promise.all([import('../../files/walk.js'), import('../fleet.js')]);
  const jobs = fleetJobs(flags.jobs, ctx.env);
  const files = await encryptedFiles([dir], true, (line) => warn(ctx, line));
  const result = await runFleet(files, {
    jobs,
    ctx,
    label: 'rotate',
    task: async (f) => {
      await rotateCommand(f, { ...flags, recursive: false, inPlace: true }, ctx);
      return 'changed';
    },
  });
  for (const failure of result.failures) say(ctx, failure.line);
  ctx.stdout.write(`rotate: ${result.changed} rotated, ${result.failures.length} failed\n`);
  return result.failures.length ? 1 : 0;
}
