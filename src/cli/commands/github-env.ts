/**
 * `tsops decrypt --output-type github-env FILE`: the file's top-level values
 * (nested ones with --flatten) become environment variables of the job's
 * later steps, each masked in the log first. Nothing secret goes to stdout
 * but the mask commands, which the runner consumes.
 */
import { closeSync } from 'node:fs';
import { recordAudit } from '../../audit/index.js';
import { UsageError } from '../../errors.js';
import { loadSecretVariables } from '../../exec/run-with-secrets.js';
import { checkExportName, envRecord, freshDelimiter, maskCommands, openGithubEnv, writeAll } from '../../exec/github-env.js';
import { logTo, warn, writeOut, type CliContext } from '../context.js';
import { decryptionOrder, inputFormat } from '../options.js';
import type { DecryptFlags } from './decrypt.js';

export async function githubEnvCommand(file: string | undefined, flags: DecryptFlags & { flatten?: boolean }, ctx: CliContext): Promise<number> {
  if (file === undefined || file === '-') throw new UsageError('--output-type github-env needs a file, not standard input');
  if (flags.inPlace || flags.output || flags.extract !== undefined) throw new UsageError('--output-type github-env writes to $GITHUB_ENV: it takes no --in-place, --output or --extract');
  // Checked before decrypting: a misconfigured step fails without touching the keys.
  const fd = openGithubEnv(ctx.env);
  try {
    const order = decryptionOrder(flags, ctx.env);
    const keys = { ...(flags.verbose ? { env: ctx.env, log: logTo(ctx) } : { env: ctx.env }), unwrappedBy: [] as string[] };
    const variables = await loadSecretVariables([file], {
      cwd: ctx.cwd,
      ...(flags.flatten ? { flatten: true } : {}),
      open: {
        ...(flags.inputType ? { format: inputFormat(flags, file) } : {}),
        ...(flags.ignoreMac ? { ignoreMac: true } : {}),
        ...(order ? { decryptionOrder: order } : {}),
        keys,
      },
      warn: (message) => warn(ctx, message),
    });
    await recordAudit(ctx, 'decrypt', file, keys.unwrappedBy);
    try {
      for (const name of variables.keys()) checkExportName(name);
      const delimiter = freshDelimiter(variables.values());
      // Every value is masked before any of them is written where a later step could print it.
      await writeOut(ctx, [...variables.values()].map(maskCommands).join(''));
      writeAll(fd, [...variables].map(([name, value]) => envRecord(name, value, delimiter)).join(''));
    } finally {
      variables.clear();
    }
  } finally {
    closeSync(fd);
  }
  return 0;
}
