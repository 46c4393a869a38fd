import { readFileSync } from 'node:fs';
import { findConfig, parseConfig } from '../../config/index.js';
import { fileStatus, keyNamesFromConfig, type FileStatus } from '../../status/file-status.js';
import { displayPath, encryptedFiles } from '../../files/walk.js';
import { say, type CliContext } from '../context.js';
import { fleetJobs, runFleet } from '../fleet.js';
import { escapeControl, jsonForTerminal } from '../../escape.js';
import { keyOptions, type CommonFlags } from '../options.js';

export interface StatusFlags extends CommonFlags {
  json?: boolean;
  recipient?: string;
  jobs?: string;
}

/** `tsops status [DIR]`: who can read what, and whether it matches the config. */
export async function statusCommand(dir: string | undefined, flags: StatusFlags, ctx: CliContext): Promise<number> {
  const files = await encryptedFiles([dir ?? ctx.cwd], true);
  const configPath = await findConfig({ target: files[0] ?? dir ?? ctx.cwd, cwd: ctx.cwd, env: ctx.env, ...(flags.config ? { explicit: flags.config } : {}) }).catch(() => undefined);
  const configText = configPath ? readFileSync(configPath, 'utf8') : undefined;
  const names = configText ? keyNamesFromConfig(configText) : new Map<string, string>();
  const rotateAfter = configText && configPath ? rotateAfterOf(configText, configPath) : undefined;
  const keys = keyOptions(flags, ctx.env);
  const found: { index: number; status: FileStatus }[] = [];
  const result = await runFleet(files.map((file, index) => ({ file, index })), {
    jobs: fleetJobs(flags.jobs, ctx.env),
    ctx,
    label: 'status',
    fileOf: (f) => f.file,
    task: async (f) => {
      found.push({ index: f.index, status: await fileStatus(f.file, ctx.cwd, ctx.env, keys, names, rotateAfter) });
      return 'ok';
    },
  });
  // A file that looks encrypted but cannot be read at all is reported, not left out of the report silently.
  for (const failure of result.failures) say(ctx, failure.line);
  let statuses = found.sort((a, b) => a.index - b.index).map((f) => f.status);
  for (const s of statuses) s.file = displayPath(s.file, ctx.cwd);
  if (flags.recipient) statuses = statuses.filter((s) => s.groups.some((g) => g.keys.some((k) => k.id === flags.recipient)));
  if (flags.json) {
    ctx.stdout.write(jsonForTerminal({ files: statuses }, 2) + '\n');
    return result.failures.length ? 1 : 0;
  }
  for (const s of statuses) {
    const groups = s.groups.map((g, i) => `${s.groups.length > 1 ? `group ${i + 1}: ` : ''}${g.keys.map((k) => (k.name ? `${k.name} (${short(k.id)})` : short(k.id))).join(', ')}`).join('; ');
    const threshold = s.threshold ? ` [${s.threshold} of ${s.groups.length}]` : '';
    const config = s.config.state === 'stale' ? `stale (+${s.config.missing.length} -${s.config.extra.length})` : s.config.state;
    const structure = s.structure === 'lost' ? 'LOST (HEAD had it: rewritten by sops, or removed)' : s.structure;
    ctx.stdout.write(`${escapeControl(s.file)}
    keys: ${escapeControl(groups + threshold)}
    last written: ${escapeControl(s.lastModified)}   config: ${config}   mac: ${s.mac}   structure: ${structure}
    data key: ${describeKeyDate(s.dataKey, rotateAfter)}
`);
  }
  if (statuses.length === 0) ctx.stdout.write(flags.recipient ? `no files readable by ${escapeControl(flags.recipient)}\n` : 'no encrypted files\n');
  else ctx.stdout.write(`status: ${statusSummary(statuses)}${result.failures.length ? `, ${result.failures.length} unreadable` : ''}\n`);
  return result.failures.length ? 1 : 0;
}

/** `12 files: mac 10 ok, 1 mismatch, 1 undecryptable; config 2 stale` */
function statusSummary(statuses: FileStatus[]): string {
  const count = <K extends string>(values: K[]): string => {
    const n = new Map<K, number>();
    for (const v of values) n.set(v, (n.get(v) ?? 0) + 1);
    return [...n].map(([k, c]) => `${c} ${k}`).join(', ');
  };
  return `${statuses.length} file${statuses.length === 1 ? '' : 's'}: mac ${count(statuses.map((s) => s.mac))}; config ${count(statuses.map((s) => s.config.state))}`;
}

/** The config's `tsops.rotate_after`; a config that does not parse has none here (other commands report why). */
function rotateAfterOf(text: string, path: string): number | undefined {
  try {
    return parseConfig(text, path).rotateAfterDays;
  } catch {
    return undefined;
  }
}

function describeKeyDate(key: FileStatus['dataKey'], rotateAfter: number | undefined): string {
  if (key.daysOld === null) return key.created ? `age unknown (${key.created} is in the future)` : 'age unknown (no created_at in the metadata, no git history)';
  const from = key.source === 'created_at' ? 'created_at in the metadata' : key.source === 'git' ? 'git history' : 'lastmodified (rotated, not committed)';
  const due = key.overdue ? `   ROTATE: older than ${rotateAfter}d` : key.overdue === false ? `   rotation due at ${rotateAfter}d` : '';
  return `${key.daysOld} day${key.daysOld === 1 ? '' : 's'} old (from ${from})${due}`;
}

function short(id: string): string {
  return id.length > 24 ? `${id.slice(0, 12)}…${id.slice(-8)}` : id;
}
