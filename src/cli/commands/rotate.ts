import { readFileSync } from 'node:fs';
import { aboutFile, TsopsError, UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { recordAudit } from '../../audit/index.js';
import { rotateFile } from '../../rekey/rotate.js';
import { say, warn, writeOut, type CliContext } from '../context.js';
import { keysFromFlags, removedIdentities } from '../key-flags.js';
import { decryptionOrder, indentOf, inputFormat, keyOptions, type CommonFlags } from '../options.js';

export interface RotateFlags extends CommonFlags {
  inPlace?: boolean;
  recursive?: boolean;
  jobs?: string;
  /** With -r: only files whose data key is older than this (`90d`, `12w`). */
  olderThan?: string;
  output?: string;
  /** `--add-NAME` / `--rm-NAME` per key kind (src/cli/key-flags.ts). */
  [keyChangeFlag: string]: unknown;
}

/** `rotate`: a new data key, every value re-encrypted, master keys optionally added or removed. */
export async function rotateCommand(file: string | undefined, flags: RotateFlags, ctx: CliContext): Promise<number> {
  if (!file) throw new UsageError('rotate needs a file', 'no-file-given');
  if (flags.recursive) return rotateTree(file, flags, ctx);
  if (flags.olderThan !== undefined) throw new UsageError('--older-than picks files under a directory: use it with -r');
  if (flags.inPlace && flags.output) throw new UsageError('--in-place and --output cannot be used together');
  const add = keysFromFlags(flags, 'add-');
  const remove = removedIdentities(flags);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    const kind = add.length || remove.length ? 'no-file-to-rekey' : 'file-not-found';
    throw new TsopsError('no such file', kind, { file });
  }
  const keys = { ...keyOptions(flags, ctx.env), unwrappedBy: [] as string[] };
  const output = await aboutFile(file, () =>
    rotateFile(file, bytes, {
      format: inputFormat(flags, file),
      exactFormat: Boolean(flags.inputType),
      changes: { add, remove },
      keys,
      ignoreMac: flags.ignoreMac,
      decryptionOrder: decryptionOrder(flags, ctx.env),
      indent: indentOf(flags),
      config: { cwd: ctx.cwd, env: ctx.env, ...(flags.config ? { explicitConfig: flags.config } : {}) },
      warn: (line) => warn(ctx, line),
    }),
  );
  await recordAudit(ctx, 'rotate', file, keys.unwrappedBy);
  const target = flags.inPlace ? file : flags.output;
  if (target) await writeFileAtomic(target, output);
  else await writeOut(ctx, output);
  return 0;
}

/**
 * `rotate -r DIR`: every encrypted file under DIR, in place, in parallel; one
 * bad file never stops the others. With --older-than, only the files whose
 * data key is older than that (src/rekey/key-date.ts); a file whose age cannot
 * be told is left alone and counted.
 */
async function rotateTree(dir: string, flags: RotateFlags, ctx: CliContext): Promise<number> {
  const { rotateTree, selectOlderThan } = await import('../../rekey/rotate.js');
  const { progressLine } = await import('./updatekeys.js');
  const maxDays = flags.olderThan === undefined ? undefined : await parseOlderThan(flags.olderThan);
  const jobs = Math.max(1, Math.min(Number(flags.jobs) || 8, 32));
  const now = new Date();
  let progress: ReturnType<typeof progressLine> | undefined;
  const { rotated, notDue, undated, failures } = await rotateTree(dir, {
    jobs,
    cwd: ctx.cwd,
    note: (line) => warn(ctx, line),
    rotateOne: (f) => rotateCommand(f, { ...flags, recursive: false, inPlace: true, olderThan: undefined }, ctx),
    ...(maxDays === undefined ? {} : { select: (f: string) => selectOlderThan(f, maxDays, now) }),
    tick: (f, outcome, total) => (progress ??= progressLine(ctx, total)).tick(f, outcome === 'not due' ? 'unchanged' : outcome),
  });
  progress?.done();
  for (const line of [...undated, ...failures]) say(ctx, line);
  const picked = maxDays === undefined ? '' : `, ${notDue} not due, ${undated.length} age unknown`;
  ctx.stdout.write(`rotate: ${rotated} rotated${picked}, ${failures.length} failed\n`);
  return failures.length ? 1 : 0;
}

async function parseOlderThan(text: string): Promise<number> {
  const { parseDays } = await import('../../config/duration.js');
  try {
    return parseDays(text);
  } catch (e) {
    throw new UsageError(`--older-than: ${(e as Error).message}`);
  }
}
