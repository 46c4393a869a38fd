import { UsageError } from '../../errors.js';
import { applyUpdate, describeDiff, planUpdate, type UpdatePlan } from '../../rekey/updatekeys.js';
import { displayPath, encryptedFiles } from '../../files/walk.js';
import { mapLimited } from '../../files/map-limited.js';
import { say, warn, type CliContext } from '../context.js';
import { fleetJobs, runFleet } from '../fleet.js';
import { escapeControl } from '../../escape.js';
import { keyOptions, type CommonFlags } from '../options.js';

interface PlannedFile {
  file: string;
  plan?: UpdatePlan;
  error?: unknown;
}

export interface UpdateKeysFlags extends CommonFlags {
  yes?: boolean;
  rotate?: boolean;
  recursive?: boolean;
  jobs?: string;
}

/**
 * `updatekeys FILE... | -r DIR`: brings master keys in line with the creation
 * rules. Shows the change per file, asks on a terminal (`--yes` for scripts),
 * rotates the data key when a key is removed (`--no-rotate` to keep it).
 */
export async function updatekeysCommand(paths: string[], flags: UpdateKeysFlags, ctx: CliContext): Promise<number> {
  if (paths.length === 0) throw new UsageError('updatekeys needs files or -r DIR', 'no-file-given');
  const files = await encryptedFiles(paths, Boolean(flags.recursive), (line) => warn(ctx, line));
  const keys = keyOptions(flags, ctx.env);
  const noRotate = flags.rotate === false;
  const jobs = fleetJobs(flags.jobs, ctx.env);
  const interactive = ctx.stdinIsTTY && !flags.yes;
  const warned = new Set<string>();
  const warnOnce = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    warn(ctx, message);
  };
  // Plans are small (key identities, no values): all of them are kept, to show every change before asking once.
  const plans = await mapLimited(files, jobs, async (file): Promise<PlannedFile> => {
    try {
      return { file, plan: await planUpdate(file, ctx.cwd, ctx.env, flags.config, warnOnce) };
    } catch (e) {
      return { file, error: e };
    }
  });
  const todo = plans.filter((p): p is { file: string; plan: UpdatePlan } => p.plan !== undefined && p.plan.diff.changed);
  for (const p of todo) ctx.stdout.write(describeDiff(p.plan, displayPath(p.file, ctx.cwd)).split('\n').map(escapeControl).join('\n') + '\n');
  if (todo.some((p) => p.plan.diff.removes)) {
    ctx.stderr.write(noRotate
      ? 'tsops: warning: --no-rotate: removed keys keep the data key and can still read these files as they are written from now on\n'
      : 'tsops: keys are removed: those files get a new data key (every value re-encrypted)\n');
  }
  if (todo.length && !flags.yes) {
    if (!interactive) throw new UsageError('updatekeys changes files: run it on a terminal to confirm, or pass --yes', 'bad-usage');
    const { confirm } = await import('@inquirer/prompts');
    if (!(await confirm({ message: `Update the keys of ${todo.length} file${todo.length === 1 ? '' : 's'}?`, default: false }))) {
      ctx.stderr.write('tsops: nothing changed\n');
      return 1;
    }
  }
  const result = await runFleet(plans, {
    jobs,
    ctx,
    label: 'updatekeys',
    fileOf: (p) => p.file,
    task: async (p) => {
      if (!p.plan) throw p.error;
      if (!p.plan.diff.changed) return 'ok';
      await applyUpdate(p.plan, { keys, noRotate });
      return 'changed';
    },
  });
  for (const failure of result.failures) say(ctx, failure.line);
  ctx.stdout.write(`updatekeys: ${result.changed} changed, ${result.ok} unchanged, ${result.failures.length} failed\n`);
  return result.failures.length ? 1 : 0;
}
