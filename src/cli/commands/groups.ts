import { readFileSync } from 'node:fs';
import { aboutFile, TsopsError, UsageError } from '../../errors.js';
import { emitAs, loadFormat } from '../../formats/format.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import type { KeySpec } from '../../keys/masterkey.js';
import { OpenedFile } from '../../sops/opened-file.js';
import { writeOut, type CliContext } from '../context.js';
import { decryptionOrder, indentOf, inputFormat, keyOptions, outputFormat, thresholdFromFlags, type CommonFlags } from '../options.js';
import { keyFlagList, keyFlagOptions, keysFromFlags } from '../key-flags.js';

export interface GroupsFlags extends CommonFlags {
  file?: string;
  inPlace?: boolean;
  shamirSecretSharingThreshold?: string;
  /** `--NAME KEY` per key kind and the kinds' options (src/cli/key-flags.ts). */
  [keyFlag: string]: unknown;
}

/** `groups add`: one more key group holding the given keys; the same data key is split anew and wrapped for every group. */
export async function groupsAddCommand(args: string[], flags: GroupsFlags, ctx: CliContext): Promise<number> {
  if (args.length) throw new UsageError('groups add takes no positional arguments (the keys are flags, the file is --file)', 'bad-usage');
  const group = keysFromFlags(flags, '', keyFlagOptions(flags));
  if (!group.length) throw new UsageError(`groups add needs at least one key: ${keyFlagList()}`, 'bad-usage');
  return changeGroups(flags, ctx, (groups) => [...groups, group]);
}

/** `groups delete INDEX`: drop the key group at INDEX (from 0); the data key is split anew for the groups left. */
export async function groupsDeleteCommand(args: string[], flags: GroupsFlags, ctx: CliContext): Promise<number> {
  if (args.length !== 1) throw new UsageError('groups delete takes exactly one argument: the index of the group', 'bad-usage');
  if (!/^\d{1,9}$/.test(args[0]!)) throw new UsageError(`the group index must be a whole number from 0 (not ${JSON.stringify(args[0])})`, 'bad-usage');
  const index = Number(args[0]);
  return changeGroups(flags, ctx, (groups) => {
    if (index >= groups.length) throw new TsopsError(`there is no key group ${index}: the file has ${groups.length} (numbered from 0)`);
    if (groups.length === 1) throw new TsopsError('cannot delete the only key group: nobody could decrypt the file');
    return groups.filter((_, i) => i !== index);
  });
}

async function changeGroups(flags: GroupsFlags, ctx: CliContext, change: (groups: KeySpec[][]) => KeySpec[][]): Promise<number> {
  const file = flags.file;
  if (!file) throw new UsageError('groups needs --file FILE', 'no-file-given');
  const format = inputFormat(flags, file);
  const handler = await loadFormat(format);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new TsopsError('no such file', 'file-not-found', { file });
  }
  const output = await aboutFile(file, async () => {
    using opened = await OpenedFile.open(handler.parse(bytes, { file }), { keys: keyOptions(flags, ctx.env), decryptionOrder: decryptionOrder(flags, ctx.env) });
    const groups = change(opened.keySpecs());
    const threshold = thresholdFromFlags({ shamirSecretSharingThreshold: flags.shamirSecretSharingThreshold }) ?? opened.metadata.shamirThreshold ?? groups.length;
    // As sops: a threshold the groups cannot meet is refused, also when one group is left (say --shamir-secret-sharing-threshold 1).
    if (threshold > groups.length) {
      throw new TsopsError(`the Shamir threshold (${threshold}) would be more than the ${groups.length} key group(s): lower it with --shamir-secret-sharing-threshold`);
    }
    // Values, lastmodified and the MAC stay as they are: only the data key's wrapping changes.
    const untouched = handler.parse(bytes, { file });
    untouched.metadata = await opened.rewrap(groups, threshold, keyOptions(flags, ctx.env));
    return emitAs(untouched, outputFormat(flags, format), indentOf(flags), file);
  });
  if (flags.inPlace) await writeFileAtomic(file, output);
  else await writeOut(ctx, output);
  return 0;
}
