/**
 * exec-env and exec-file: decrypt, hand the secrets to a command (in its
 * environment, or at a private path), wait for it and report how it ended.
 * Nothing here touches stdout or exits: the CLI turns the outcome into a status.
 */
import { chownSync } from 'node:fs';
import { dirname } from 'node:path';
import { emitAs } from '../formats/format.js';
import type { FormatName } from '../tree.js';
import { relaySignals } from '../io/process-lifecycle.js';
import { runChild, type ChildOutcome, type CommandLine } from './child.js';
import { decryptPath, type OpenOptions } from './decrypt.js';
import { childEnvironment, mergeVariables, secretVariables, type EmptyValues, type SecretVariables } from './env.js';
import { checkWrittenValues, ProvenanceRecorder } from './provenance.js';
import { resolveUser, type RunAsUser } from './user.js';
import type { OutputTargets, Redaction } from '../redact/output.js';

export interface ExecCommon {
  command: CommandLine;
  /** Decryption settings: keys, MAC check, decryption order, input format. */
  open?: OpenOptions;
  /** Relative file names and the child's working directory. */
  cwd: string;
  /** The inherited environment (also where key settings are read). */
  env: NodeJS.ProcessEnv;
  /** Run the command as this account (tsops must be root). */
  user?: string;
  /** Warnings about the files (one line each). */
  warn?: (message: string) => void;
  /** Pass on the variables holding tsops's own keys (SOPS_AGE_KEY...); default: withheld. */
  keepKeyEnv?: boolean;
  /** Use values the MAC does not cover (see {@link UnauthenticatedChoices}). */
  allowEmptyOverride?: boolean;
  allowUnauthenticated?: boolean;
  /** Take the command's stdout and stderr through tsops, every secret value hidden, to these (see src/redact). */
  redact?: OutputTargets;
  /** Called once the files are decrypted, before the command starts (the audit log). */
  decrypted?: () => Promise<void>;
}

/** Opting in to values the sops MAC does not authenticate. */
export interface UnauthenticatedChoices {
  /** An empty value (never in the MAC) may replace a variable or value that is already there. */
  allowEmptyOverride?: boolean;
  /** Plaintext values of a `mac_only_encrypted` file (not in the MAC) are used. */
  allowUnauthenticated?: boolean;
}

export interface ExecEnvRequest extends ExecCommon {
  /** Decrypted in order; a later file's variable wins over an earlier one's. */
  files: string[];
  pristine?: boolean;
  /** Secrets win over inherited variables (default true). */
  override?: boolean;
  flatten?: boolean;
}

export interface LoadVariablesOptions extends UnauthenticatedChoices {
  open?: OpenOptions;
  cwd: string;
  flatten?: boolean;
  warn?: (message: string) => void;
  /** Filled with the variables whose value is empty, which may add a variable but not replace one. */
  empties?: EmptyValues;
}

/**
 * Decrypts every file and loads them as one set of variables (later files
 * win). Values the MAC does not cover are refused as {@link UnauthenticatedChoices} says.
 */
export async function loadSecretVariables(files: string[], options: LoadVariablesOptions): Promise<SecretVariables> {
  const sets: SecretVariables[] = [];
  const empties: EmptyValues[] = [];
  for (const file of files) {
    const { parsed, provenance } = await openWithProvenance(file, options.open, options.cwd);
    for (const w of parsed.warnings ?? []) options.warn?.(`${file}: ${w}`);
    const fileEmpties: EmptyValues = new Map();
    empties.push(fileEmpties);
    sets.push(
      secretVariables(parsed.documents[0], {
        file,
        provenance,
        empties: fileEmpties,
        ...(options.flatten ? { flatten: true } : {}),
        ...(options.allowEmptyOverride ? { allowEmptyOverride: true } : {}),
        ...(options.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
      }),
    );
  }
  return mergeVariables(sets, { empties, merged: options.empties ?? new Map(), ...(options.allowEmptyOverride ? { allowEmptyOverride: true } : {}) });
}

/** Decrypts a file and tells which of its values the MAC does not cover. */
async function openWithProvenance(file: string, open: OpenOptions | undefined, cwd: string) {
  const recorder = new ProvenanceRecorder();
  const parsed = await decryptPath(file, { ...open, inspect: recorder.inspect }, cwd);
  return { parsed, provenance: recorder.provenance(parsed) };
}

/** `exec-env`: the command runs with the secrets in its environment; they never touch disk. */
export async function execEnv(request: ExecEnvRequest): Promise<ChildOutcome> {
  const user = request.user === undefined ? undefined : resolveUser(request.user);
  const empties: EmptyValues = new Map();
  let secrets: SecretVariables | undefined = await loadSecretVariables(request.files, { ...request, empties });
  await request.decrypted?.();
  let env: Record<string, string>;
  let redaction: Redaction | undefined;
  try {
    if (request.redact) redaction = await redactionFor(secrets, request);
    env = childEnvironment({
      parent: request.env,
      secrets,
      empties,
      ...(request.pristine ? { pristine: true } : {}),
      ...(request.override === false ? { override: false } : {}),
      ...(user ? { user: user.env } : {}),
      ...(request.keepKeyEnv ? { keepKeyEnv: true } : {}),
      ...(request.allowEmptyOverride ? { allowEmptyOverride: true } : {}),
    });
  } finally {
    secrets.clear();
    secrets = undefined;
  }
  try {
    return await runChild(request.command, { env, cwd: request.cwd, ...asUser(user), ...relayThrough(redaction) });
  } finally {
    redaction?.dispose();
  }
}

/** The output filter for `--redact`, loaded only then. */
async function redactionFor(values: Iterable<readonly [string, string | Uint8Array]>, request: ExecCommon): Promise<Redaction> {
  const { prepareRedaction } = await import('../redact/output.js');
  return prepareRedaction(values, request.redact!, (message) => request.warn?.(message));
}

function relayThrough(redaction: Redaction | undefined): { relayOutput?: Redaction['relay'] } {
  return redaction ? { relayOutput: redaction.relay } : {};
}

export interface ExecFileRequest extends ExecCommon {
  file: string;
  /** Format of the text the command reads (default: the file's own). */
  outputFormat?: FormatName;
  indent?: number;
  /** A FIFO (default) or a regular 0600 file. */
  fifo?: boolean;
  /** Name of the path inside the private directory (default `tmp-file`). */
  filename?: string;
}

/** The string every `{}` in a command is replaced with. */
function substitutePath(command: CommandLine, path: string): CommandLine {
  const put = (s: string): string => s.split('{}').join(path);
  return 'shell' in command ? { shell: put(command.shell) } : { argv: command.argv.map(put) };
}

/**
 * `exec-file`: the decrypted text, in the output format, is readable at a
 * private path (a FIFO unless `fifo: false`) while the command runs; every
 * `{}` in the command names it. The directory is gone when this returns or throws.
 */
export async function execFile(request: ExecFileRequest): Promise<ChildOutcome> {
  const user = request.user === undefined ? undefined : resolveUser(request.user);
  const { parsed, provenance } = await openWithProvenance(request.file, request.open, request.cwd);
  await request.decrypted?.();
  for (const w of parsed.warnings ?? []) request.warn?.(`${request.file}: ${w}`);
  checkWrittenValues(parsed.documents, provenance, {
    file: request.file,
    ...(request.allowEmptyOverride ? { allowEmptyOverride: true } : {}),
    ...(request.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
  });
  const text = await emitAs(parsed, request.outputFormat ?? parsed.format, request.indent, request.file);
  const redaction = request.redact ? await redactionFor((await import('../redact/output.js')).documentValues(parsed.documents), request) : undefined;
  // Loaded here, not with the module: exec-env never needs it.
  const { createSecretFile } = await import('./secret-file.js');
  // From the moment the directory exists until the child's relay takes over, a
  // signal must not end the process before cleanup; it is handled (forwarded) once the child runs.
  const release = relaySignals(() => {});
  try {
    const secret = createSecretFile(text, {
      ...(request.filename !== undefined ? { name: request.filename } : {}),
      ...(request.fifo === false ? { fifo: false } : {}),
      ...(user ? { owner: { uid: user.uid, gid: user.gid } } : {}),
      env: request.env,
    });
    try {
      if (user) giveTo(secret.dir, secret.path, user);
      // The inherited environment always goes along, as in sops.
      const env = childEnvironment({ parent: request.env, secrets: new Map(), ...(user ? { user: user.env } : {}), ...(request.keepKeyEnv ? { keepKeyEnv: true } : {}) });
      const outcome = runChild(substitutePath(request.command, secret.path), { env, cwd: request.cwd, ...asUser(user), ...relayThrough(redaction) });
      release();
      return await outcome;
    } finally {
      await secret.close();
    }
  } finally {
    redaction?.dispose();
    release();
  }
}

/** The account the command runs as must be able to enter the private directory. */
function giveTo(dir: string, path: string, user: RunAsUser): void {
  for (let p = path; p.startsWith(dir); p = dirname(p)) {
    chownSync(p, user.uid, user.gid);
    if (p === dir) break;
  }
}

function asUser(user: RunAsUser | undefined): { uid?: number; gid?: number } {
  return user ? { uid: user.uid, gid: user.gid } : {};
}
