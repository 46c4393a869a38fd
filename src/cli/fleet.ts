/**
 * Commands over many files (`rotate -r`, `updatekeys -r`, `decrypt --check`,
 * `status`): a bounded number of files at once, a progress line on a
 * terminal, one line per failure naming the file, and counts at the end.
 * One file's failure never stops the others. Only failures are kept, so
 * memory does not grow with the number of files.
 */
import { describeError, UsageError } from '../errors.js';
import { escapeControl } from '../escape.js';
import { displayPath } from '../files/walk.js';
import { forEachLimited } from '../files/map-limited.js';
import { exitCodeOf } from './exit-codes.js';
import { progressLine } from './progress.js';
import type { CliContext } from './context.js';

/** KMS, Vault and the cloud keys spend most of a file's time waiting on the network: many files at once pay off even on one core. */
export const DEFAULT_JOBS = 16;
export const MAX_JOBS = 256;

/** Files processed at once: `--jobs`, else TSOPS_JOBS, else the default. */
export function fleetJobs(flag: string | undefined, env: NodeJS.ProcessEnv): number {
  const raw = flag ?? env['TSOPS_JOBS'];
  if (raw === undefined || raw === '') return DEFAULT_JOBS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag !== undefined ? '--jobs' : 'TSOPS_JOBS'} must be a whole number of at least 1, not ${raw}`, 'bad-usage');
  return Math.min(n, MAX_JOBS);
}

/** `skipped`: left alone on purpose (e.g. not due for rotation); counted by the caller, if at all. */
export type FileOutcome = 'ok' | 'changed' | 'skipped';

export interface FleetFailure {
  /** `FILE: reason`, escaped, one line. */
  line: string;
  exitCode: number;
}

export interface FleetResult {
  ok: number;
  changed: number;
  skipped: number;
  failures: FleetFailure[];
}

/** Items are file names, or anything `fileOf` names a file for (e.g. a plan for one). */
export async function runFleet<T = string>(
  items: readonly T[],
  options: { jobs: number; ctx: CliContext; label: string; task: (item: T) => Promise<FileOutcome>; fileOf?: (item: T) => string },
): Promise<FleetResult> {
  const { ctx } = options;
  const result: FleetResult = { ok: 0, changed: 0, skipped: 0, failures: [] };
  const fileOf = options.fileOf ?? ((item: T) => String(item));
  const progress = progressLine(ctx.stderr as NodeJS.WriteStream, options.label, items.length);
  try {
    await forEachLimited(items, options.jobs, async (item) => {
      let failed = false;
      try {
        result[await options.task(item)]++;
      } catch (e) {
        failed = true;
        const { message, kind } = describeError(e);
        const file = fileOf(item);
        const shown = escapeControl(displayPath(file, ctx.cwd));
        result.failures.push({ line: message.startsWith(file) || message.startsWith(shown) ? message : `${shown}: ${message}`, exitCode: exitCodeOf(kind) });
      }
      progress.tick(failed);
    });
  } finally {
    progress.done();
  }
  // Settled in whatever order the keys answered: reported in a stable one.
  result.failures.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
  return result;
}

/** The exit code of a run with failures: theirs when they all agree (51 when only MACs failed, as sops exits), else 1. */
export function fleetExitCode(result: Pick<FleetResult, 'failures'>): number {
  if (!result.failures.length) return 0;
  const codes = new Set(result.failures.map((f) => f.exitCode));
  return codes.size === 1 ? [...codes][0]! : 1;
}
