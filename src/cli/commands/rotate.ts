import { readFileSync } from 'node:fs';
import { aboutFile, ExitCode, TsopsError, UsageError } from '../../errors.js';
import { readStore } from '../../formats/detect.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { decryptDocument, forgetDecrypted, rotateDocument } from '../../sops/index.js';
import { keyDrift, describeDrift } from '../../rekey/drift.js';
import { recordAudit } from '../../audit/index.js';
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
  if (!file) throw new UsageError('rotate needs a file', ExitCode.NoFileSpecified);
  if (flags.recursive) return rotateTree(file, flags, ctx);
  if (flags.olderThan !== undefined) throw new UsageError('--older-than picks files under a directory: use it with -r');
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
    const keys = { ...keyOptions(flags, ctx.env), unwrappedBy: [] as string[] };
    const decrypted = await decryptDocument(parsed, { forReencryption: true, ignoreMac: flags.ignoreMac, decryptionOrder: decryptionOrder(flags, ctx.env), keys });
    try {
      await rotateDocument(parsed, decrypted, { add, remove }, keys);
    } finally {
      forgetDecrypted(decrypted);
    }
    await recordAudit(ctx, 'rotate', file, keys.unwrappedBy);
    return format.emit(parsed, { indent: indentOf(flags) });
  });
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
  const { encryptedFiles, progressLine } = await import('./updatekeys.js');
  const { displayPath, mapLimited } = await import('../../rekey/walk.js');
  const { describeError } = await import('../../errors.js');
  const maxDays = flags.olderThan === undefined ? undefined : await parseOlderThan(flags.olderThan);
  const files = await encryptedFiles([dir], true, (line) => warn(ctx, line));
  const jobs = Math.max(1, Math.min(Number(flags.jobs) || 8, 32));
  const progress = progressLine(ctx, files.length);
  const now = new Date();
  const results = await mapLimited(files, jobs, async (f) => {
    let outcome: { file: string; status: 'rotated' | 'not due' | 'age unknown' | 'failed'; detail: string };
    try {
      const due = maxDays === undefined ? true : await isDue(f, maxDays, now);
      if (due === undefined) outcome = { file: f, status: 'age unknown', detail: 'no created_at in the metadata and no git history (or a date in the future): not rotated' };
      else if (!due) outcome = { file: f, status: 'not due', detail: '' };
      else {
        await rotateCommand(f, { ...flags, recursive: false, inPlace: true, olderThan: undefined }, ctx);
        outcome = { file: f, status: 'rotated', detail: '' };
      }
    } catch (e) {
      outcome = { file: f, status: 'failed', detail: describeError(e).message };
    }
    progress.tick(f, outcome.status === 'not due' ? 'unchanged' : outcome.status);
    return outcome;
  });
  progress.done();
  for (const r of results.filter((x) => x.status === 'failed' || x.status === 'age unknown')) say(ctx, r.detail.includes(r.file) ? r.detail : `${displayPath(r.file, ctx.cwd)}: ${r.detail}`);
  const count = (s: string): number => results.filter((r) => r.status === s).length;
  const picked = maxDays === undefined ? '' : `, ${count('not due')} not due, ${count('age unknown')} age unknown`;
  ctx.stdout.write(`rotate: ${count('rotated')} rotated${picked}, ${count('failed')} failed\n`);
  return count('failed') ? 1 : 0;
}

async function parseOlderThan(text: string): Promise<number> {
  const { parseDays } = await import('../../config/duration.js');
  try {
    return parseDays(text);
  } catch (e) {
    throw new UsageError(`--older-than: ${(e as Error).message}`);
  }
}

async function isDue(file: string, maxDays: number, now: Date): Promise<boolean | undefined> {
  const { dataKeyDate, olderThan } = await import('../../rekey/key-date.js');
  const { readMetadata } = await import('../../sops/metadata.js');
  const { parsed } = await readStore(readFileSync(file), inputFormat({}, file), { file, needMetadata: true });
  return olderThan(await dataKeyDate(file, readMetadata(parsed.metadata!)), maxDays, now);
}
