import { parseExecArgs, lastValue, type ExecArgs } from '../../exec/argv.js';
import { reraise } from '../../io/process-lifecycle.js';
import { execEnv } from '../../exec/run-with-secrets.js';
import { decryptionOrder, inputFormat } from '../options.js';
import { KEY_MATERIAL_VARIABLES } from '../../exec/env.js';
import { reportError } from '../report.js';
import { recordAudit } from '../../audit/index.js';
import { logTo, warn } from '../context.js';

/** What exec-env and exec-file need of the outside world. */
export interface ExecContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Flags exec-env and exec-file share: what the command may receive beyond the authenticated secrets. */
export const EXEC_TRUST_FLAGS = ['keep-key-env', 'allow-empty-override', 'allow-unauthenticated'] as const;

export function trustChoices(args: ExecArgs): { keepKeyEnv?: true; allowEmptyOverride?: true; allowUnauthenticated?: true } {
  return {
    ...(args.booleans.has('keep-key-env') ? { keepKeyEnv: true } : {}),
    ...(args.booleans.has('allow-empty-override') ? { allowEmptyOverride: true } : {}),
    ...(args.booleans.has('allow-unauthenticated') ? { allowUnauthenticated: true } : {}),
  };
}

/** Node has no exec(): what `--same-process` gets instead, on every platform. */
export const SAME_PROCESS_NOTE =
  '--same-process: Node cannot replace its own process, on any platform (Windows included); the command runs as a child on this terminal, its signals forwarded, and tsops exits with its status';

function usage(name: string): string {
  const alias = name === 'exec-env' ? '' : `\n\`${name}\` is exec-env under the name dotenv tools use; both take the same flags.\n`;
  return `Usage: tsops ${name} [flags] FILE 'command string' [flags]
       tsops ${name} [flags] FILE -- command args...
       tsops ${name} [flags] -f FILE [-f FILE...] -- command args...
${alias}
Run a command with the top-level values of an encrypted file in its
environment (secrets win over inherited variables). Values the MAC does not
cover cannot replace what the command inherits, and tsops's own key variables
are not passed on. A command string runs with /bin/sh -c (flags may follow
it); after -- it runs as given, without a shell. The exit status is the
command's; a signal that kills the command kills tsops too.

Flags:
  -f, --file FILE           decrypt this file (repeatable; later files win)
  --pristine                only the secrets: inherit no variables
  --no-override             inherited variables win over the secrets
  --flatten                 nested values become PATH_TO_LEAF variables
                            (db: {user: x} gives db_user; lists give hosts_0)
  --user NAME               run the command as this user (tsops must be root)
  --redact                  pass the command's stdout and stderr through tsops,
                            every secret value (also base64, URL- and JSON-
                            escaped) replaced with [redacted], line by line
  --keep-key-env            pass on ${KEY_MATERIAL_VARIABLES.slice(0, 2).join(', ')} and the
                            other variables holding tsops's own keys
                            (withheld by default)
  --allow-empty-override    let an empty value replace an inherited variable
                            (empty values are never in the MAC: refused by
                            default)
  --allow-unauthenticated   use plaintext values of a mac_only_encrypted file
                            (the MAC does not cover them: refused by default)
  --same-process            accepted for sops: Node cannot replace its process
                            (on no platform, Windows included), so the command
                            runs as a child on this terminal and tsops exits
                            with its status, as without the flag
  --ignore-mac              do not check the MAC
  --decryption-order TYPES  order to try master key types, e.g. age,pgp
  --input-type TYPE         yaml, json, dotenv, ini or binary (default: from
                            the name)
  --verbose                 more output on stderr
  -h, --help                this text
`;
}

const TABLE = {
  booleans: ['pristine', 'redact', 'no-override', 'flatten', 'ignore-mac', 'verbose', 'same-process', ...EXEC_TRUST_FLAGS],
  values: ['file', 'user', 'decryption-order', 'input-type'],
  short: { f: 'file' },
  fileFlag: 'file',
  refused: {
    background: 'deprecated in sops; start the command in the background with your shell',
  },
} as const;

/**
 * `tsops exec-env` (also `tsops run`). `argv` holds the arguments after the
 * command name, `--` included. Returns the exit status; when the command was
 * killed by a signal, re-raises that signal on this process first.
 */
export async function run(argv: string[], ctx: ExecContext, name = 'exec-env'): Promise<number> {
  try {
    const args = parseExecArgs(argv, TABLE);
    if (args.help) {
      ctx.stdout.write(usage(name));
      return 0;
    }
    if (args.booleans.has('same-process')) warn(ctx, SAME_PROCESS_NOTE);
    const verbose = args.booleans.has('verbose');
    const inputType = lastValue(args, 'input-type');
    const order = decryptionOrder({ decryptionOrder: lastValue(args, 'decryption-order') }, ctx.env);
    const keys = { ...(verbose ? { env: ctx.env, log: logTo(ctx) } : { env: ctx.env }), unwrappedBy: [] as string[] };
    const outcome = await execEnv({
      files: args.files,
      command: args.command!,
      cwd: ctx.cwd,
      env: ctx.env,
      ...(lastValue(args, 'user') !== undefined ? { user: lastValue(args, 'user')! } : {}),
      ...(args.booleans.has('pristine') ? { pristine: true } : {}),
      ...(args.booleans.has('no-override') ? { override: false } : {}),
      ...(args.booleans.has('flatten') ? { flatten: true } : {}),
      ...trustChoices(args),
      ...(args.booleans.has('redact') ? { redact: { stdout: ctx.stdout, stderr: ctx.stderr } } : {}),
      open: {
        ...(inputType !== undefined ? { format: inputFormat({ inputType }, undefined) } : {}),
        ...(args.booleans.has('ignore-mac') ? { ignoreMac: true } : {}),
        ...(order ? { decryptionOrder: order } : {}),
        keys,
      },
      warn: (message) => warn(ctx, message),
      decrypted: () => recordAudit(ctx, 'exec-env', args.files, keys.unwrappedBy),
    });
    return outcome.signal ? reraise(outcome.signal) : outcome.code;
  } catch (e) {
    return reportError(e, ctx.stderr);
  }
}
