import { readFile } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import { encryptedFiles } from '../../files/walk.js';
import { decryptBytes } from '../../sops/open.js';
import { formatForPath } from '../../formats/format.js';
import { say, warn, type CliContext } from '../context.js';
import { fleetExitCode, fleetJobs, runFleet } from '../fleet.js';
import { decryptionOrder, keyOptions } from '../options.js';
import type { DecryptFlags } from './decrypt.js';

/**
 * `decrypt --check [-r] PATH`: every encrypted file opened with the keys at
 * hand, its data key unwrapped and its MAC and structure binding verified;
 * nothing decrypted is written anywhere. One line per file that fails, then
 * the counts on standard output. Exit 0 when all pass; otherwise the sops exit
 * code the failures share (51 when only MACs failed, 128 when only keys were
 * missing), or 1 when they differ.
 */
export async function checkCommand(path: string | undefined, flags: DecryptFlags, ctx: CliContext): Promise<number> {
  if (!flags.check) throw new UsageError('decrypt -r writes nothing decrypted: add --check to verify every file under a directory', 'bad-usage');
  if (path === undefined || path === '-') throw new UsageError('decrypt --check needs a file or, with -r, a directory', 'no-file-given');
  if (flags.inPlace || flags.output !== undefined || flags.extract !== undefined || flags.ignoreMac) {
    throw new UsageError('decrypt --check writes nothing and checks every MAC: it takes no --in-place, --output, --extract or --ignore-mac');
  }
  const jobs = fleetJobs(flags.jobs, ctx.env);
  const files = await encryptedFiles([path], Boolean(flags.recursive), (line) => warn(ctx, line));
  const keys = keyOptions(flags, ctx.env);
  const order = decryptionOrder(flags, ctx.env);
  const result = await runFleet(files, {
    jobs,
    ctx,
    label: 'check',
    task: async (file) => {
      // The decrypted tree is dropped at once; the data key was zeroed by decryptBytes.
      await decryptBytes(await readFile(file), formatForPath(file), file, { keys, ...(order ? { decryptionOrder: order } : {}) });
      return 'ok';
    },
  });
  for (const failure of result.failures) say(ctx, failure.line);
  ctx.stdout.write(`check: ${result.ok} ok, ${result.failures.length} failed\n`);
  return fleetExitCode(result);
}
