import { availableParallelism } from 'node:os';
import { UsageError, describeError } from '../../errors.js';
import { applyUpdate, describeDiff, planUpdate, type UpdatePlan } from '../../rekey/updatekeys.js';
import { displayPath, encryptedFiles } from '../../files/walk.js';
import { mapLimited } from '../../files/map-limited.js';
import { say, warn, type CliContext } from '../context.js';
import { escapeControl } from '../../escape.js';
import { keyOptions, type CommonFlags } from '../options.js';

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
  const jobs = Math.max(1, Math.min(Number(flags.jobs) || availableParallelism() * 2, 32));
  const interactive = ctx.stdinIsTTY && !flags.yes;
  const progress = progressLine(ctx, files.length);
  const warned = new Set<string>();
  const warnOnce = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    warn(ctx, message);
  };
  const plans = await mapLimited(files, jobs, async (file) => {
    try {
      return { file, plan: await planUpdate(file, ctx.cwd, ctx.env, flags.config, warnOnce) };
    } catch (e) {
      return { file, error: describeError(e).message };
    }
  });
  const todo = plans.filter((p): p is { file: string; plan: UpdatePlan } => 'plan' in p && p.plan !== undefined && p.plan.diff.changed);
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
  const results = await mapLimited(plans, jobs, async (p) => {
    let outcome: { file: string; status: 'changed' | 'unchanged' | 'failed'; detail: string };
    if ('error' in p && p.error) outcome = { file: p.file, status: 'failed', detail: p.error };
    else if (!('plan' in p) || !p.plan || !p.plan.diff.changed) outcome = { file: p.file, status: 'unchanged', detail: 'already up to date' };
    else {
      try {
        outcome = { file: p.file, status: 'changed', detail: await applyUpdate(p.plan, { keys, noRotate }) };
      } catch (e) {
        outcome = { file: p.file, status: 'failed', detail: describeError(e).message };
      }
    }
    progress.tick(outcome.file, outcome.status);
    return outcome;
  });
  progress.done();
  const count = (s: string): number => results.filter((r) => r.status === s).length;
  for (const r of results.filter((x) => x.status === 'failed')) say(ctx, r.detail.startsWith(r.file) ? r.detail : `${displayPath(r.file, ctx.cwd)}: ${r.detail}`);
  ctx.stdout.write(`updatekeys: ${count('changed')} changed, ${count('unchanged')} unchanged, ${count('failed')} failed\n`);
  return count('failed') ? 1 : 0;
}

/** One line redrawn on a terminal; plain lines otherwise. */
export function progressLine(ctx: CliContext, total: number): { tick(file: string, status: string): void; done(): void } {
  const tty = Boolean((ctx.stderr as NodeJS.WriteStream).isTTY);
  let n = 0;
  return {
    tick(file, status) {
      n++;
      if (tty) ctx.stderr.write(`\r[${'#'.repeat(Math.round((n / total) * 30)).padEnd(30)}] ${n}/${total}`);
      else if (status !== 'unchanged') say(ctx, `${displayPath(file, ctx.cwd)}: ${status}`);
    },
    done() {
      if (tty && total) ctx.stderr.write('\n');
    },
  };
}
