/**
 * The command lines of exec-env and exec-file, parsed by hand because the
 * command after the file is not ours to interpret:
 *
 *   [flags] FILE 'command string'   run with /bin/sh -c (sops's form)
 *   [flags] FILE -- cmd args...     run as is, no shell
 *   [flags] FILE cmd args...        the same, when more than one word follows FILE
 *
 * Flags come before FILE, as in sops. With `-f FILE` (repeatable, exec-env)
 * there is no FILE operand.
 */
import { TsopsError, UsageError } from '../errors.js';
import type { CommandLine } from './child.js';

export interface FlagTable {
  /** Flags without a value, long names without dashes (`pristine`). */
  booleans: readonly string[];
  /** Flags taking a value (`--user NAME` or `--user=NAME`). */
  values: readonly string[];
  /** Single-letter spellings: `{ f: 'file' }`. */
  short?: Readonly<Record<string, string>>;
  /** Value flags that take the files (`file`): FILE is then not an operand. */
  fileFlag?: string;
  /** Accepted spellings sops has that tsops refuses, with the reason. */
  refused?: Readonly<Record<string, string>>;
}

export interface ExecArgs {
  help: boolean;
  booleans: Set<string>;
  /** Every value given, in order (repeatable flags keep them all). */
  values: Map<string, string[]>;
  files: string[];
  command?: CommandLine;
}

export function parseExecArgs(argv: readonly string[], table: FlagTable): ExecArgs {
  const out: ExecArgs = { help: false, booleans: new Set(), values: new Map(), files: [] };
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--' || arg === '-' || !arg.startsWith('-')) break;
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      return out;
    }
    i = takeFlag(argv, i, table, out);
  }
  if (table.fileFlag) out.files.push(...(out.values.get(table.fileFlag) ?? []));
  if (out.files.length === 0) {
    const file = argv[i];
    if (file === undefined || file === '--') throw new TsopsError('no file given: usage is [flags] FILE COMMAND', 'no-file-given');
    out.files.push(file);
    i++;
  }
  out.command = commandLine(argv.slice(i), table, out);
  return out;
}

/** Reads the flag at `argv[i]` (and its value) into `out`; returns the index after it. */
function takeFlag(argv: readonly string[], i: number, table: FlagTable, out: ExecArgs): number {
  const arg = argv[i]!;
  const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
  const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : table.short?.[arg.slice(1)];
  if (name === undefined) throw new UsageError(`unknown flag ${arg}`, 'bad-usage');
  if (table.refused?.[name] !== undefined) throw new UsageError(`--${name} is not supported: ${table.refused[name]}`, 'bad-usage');
  if (table.booleans.includes(name)) {
    if (eq >= 0) throw new UsageError(`--${name} takes no value`, 'bad-usage');
    out.booleans.add(name);
    return i + 1;
  }
  if (!table.values.includes(name)) throw new UsageError(`unknown flag ${arg}`, 'bad-usage');
  let value: string;
  if (eq >= 0) value = arg.slice(eq + 1);
  else {
    if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`, 'bad-usage');
    value = argv[++i]!;
  }
  out.values.set(name, [...(out.values.get(name) ?? []), value]);
  return i + 1;
}

/**
 * Whether everything after a command string is this command's own flags
 * (`FILE 'echo $A' --pristine`, as sops accepts): then the string keeps its
 * shell form and the flags apply. Anything else is the argv form.
 */
function trailingFlags(rest: readonly string[], table: FlagTable): ExecArgs | undefined {
  const flags: ExecArgs = { help: false, booleans: new Set(), values: new Map(), files: [] };
  let i = 0;
  while (i < rest.length) {
    const arg = rest[i]!;
    if (arg === '--' || arg === '-' || !arg.startsWith('-') || arg === '-h' || arg === '--help') return undefined;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : table.short?.[arg.slice(1)];
    if (name === undefined || name === table.fileFlag || !(table.booleans.includes(name) || table.values.includes(name) || table.refused?.[name] !== undefined)) return undefined;
    i = takeFlag(rest, i, table, flags);
  }
  return flags;
}

function commandLine(rest: readonly string[], table: FlagTable, out: ExecArgs): CommandLine {
  if (rest[0] === '--') {
    const argv = rest.slice(1);
    if (argv.length === 0 || argv[0] === '') throw new UsageError('no command after --', 'bad-usage');
    return { argv };
  }
  if (rest.length === 0) throw new UsageError('no command given: usage is [flags] FILE COMMAND', 'bad-usage');
  if (rest[0]!.startsWith('-')) throw new UsageError(`flags go before the file (${rest[0]} came after it); put the command after --`, 'bad-usage');
  if (rest.length === 1) return { shell: rest[0]! };
  const flags = trailingFlags(rest.slice(1), table);
  if (flags) {
    for (const name of flags.booleans) out.booleans.add(name);
    for (const [name, values] of flags.values) out.values.set(name, [...(out.values.get(name) ?? []), ...values]);
    return { shell: rest[0]! };
  }
  return { argv: [...rest] };
}

/** The last value of a flag, if given. */
export function lastValue(args: ExecArgs, name: string): string | undefined {
  const all = args.values.get(name);
  return all?.[all.length - 1];
}
