import { recordAudit } from '../../audit/index.js';
import { parseExecArgs, lastValue } from '../../exec/argv.js';
import { reraise } from '../../io/process-lifecycle.js';
import { execFile } from '../../exec/run-with-secrets.js';
import { decryptionOrder, indentOf, inputFormat, outputFormat } from '../options.js';
import { KEY_MATERIAL_VARIABLES } from '../../exec/env.js';
import { reportError } from '../report.js';
import { logTo, warn } from '../context.js';
import { EXEC_TRUST_FLAGS, trustChoices, type ExecContext } from './exec-env.js';

const EXEC_FILE_USAGE = `Usage: tsops exec-file [flags] FILE 'command {}'
       tsops exec-file [flags] FILE -- command {} args...

Run a command that reads the decrypted file at a private path, never on disk:
every {} in the command is replaced with that path. By default the path is a
FIFO that gives the whole text to every open while the command runs; the private directory holding
it is removed when the command ends. The exit status is the command's.

Flags:
  --no-fifo                   a 0600 file (on tmpfs when available) instead of a FIFO
  --filename NAME             name of the path in the private directory (default tmp-file)
  --output-type TYPE          format the command reads (default: the file's own)
  --input-type TYPE           yaml, json, dotenv, ini or binary (default: from the name)
  --indent N                  indentation of YAML and JSON output
  --user NAME                 run the command as this user (tsops must be root)
  --redact                    pass the command's stdout and stderr through tsops,
                              every secret value (also base64, URL- and JSON-
                              escaped) replaced with [redacted], line by line
  --keep-key-env              pass on ${KEY_MATERIAL_VARIABLES.slice(0, 2).join(', ')} and the other
                              variables holding tsops's own keys (withheld by default)
  --allow-empty-override      write a key twice when one of the values is empty
                              (empty values are never in the MAC: refused by default)
  --allow-unauthenticated     write plaintext values of a mac_only_encrypted file
                              (the MAC does not cover them: refused by default)
  --ignore-mac                do not check the MAC
  --decryption-order TYPES    order to try master key types, e.g. age,pgp
  --verbose                   more output on stderr
  -h, --help                  this text
`;

const TABLE = {
  booleans: ['no-fifo', 'redact', 'ignore-mac', 'verbose', ...EXEC_TRUST_FLAGS],
  values: ['filename', 'output-type', 'input-type', 'indent', 'user', 'decryption-order'],
  refused: { background: 'deprecated in sops; start the command in the background with your shell' },
} as const;

/**
 * `tsops exec-file`. `argv` holds the arguments after the command name, `--`
 * included. Returns the exit status; when the command was killed by a
 * signal, re-raises that signal on this process after cleaning up.
 */
export async function run(argv: string[], ctx: ExecContext): Promise<number> {
  try {
    const args = parseExecArgs(argv, TABLE);
    if (args.help) {
      ctx.stdout.write(EXEC_FILE_USAGE);
      return 0;
    }
    const file = args.files[0]!;
    const flags = {
      inputType: lastValue(args, 'input-type'),
      outputType: lastValue(args, 'output-type'),
      indent: lastValue(args, 'indent'),
      decryptionOrder: lastValue(args, 'decryption-order'),
    };
    const format = inputFormat(flags, file);
    const order = decryptionOrder(flags, ctx.env);
    const indent = indentOf(flags);
    const user = lastValue(args, 'user');
    const filename = lastValue(args, 'filename');
    const keys = { ...(args.booleans.has('verbose') ? { env: ctx.env, log: logTo(ctx) } : { env: ctx.env }), unwrappedBy: [] as string[] };
    const outcome = await execFile({
      file,
      command: args.command!,
      cwd: ctx.cwd,
      env: ctx.env,
      // Without --output-type, the store the content was read as (see readStore).
      ...(flags.outputType ? { outputFormat: outputFormat(flags, format) } : {}),
      ...(indent !== undefined ? { indent } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(filename !== undefined ? { filename } : {}),
      ...(args.booleans.has('no-fifo') ? { fifo: false } : {}),
      ...trustChoices(args),
      ...(args.booleans.has('redact') ? { redact: { stdout: ctx.stdout, stderr: ctx.stderr } } : {}),
      open: {
        // Only an explicit --input-type is exact; a name's store gives way to the content's (see readStore).
        ...(flags.inputType ? { format } : {}),
        ...(args.booleans.has('ignore-mac') ? { ignoreMac: true } : {}),
        ...(order ? { decryptionOrder: order } : {}),
        keys,
      },
      warn: (message) => warn(ctx, message),
      decrypted: () => recordAudit(ctx, 'exec-file', [file], keys.unwrappedBy),
    });
    return outcome.signal ? reraise(outcome.signal) : outcome.code;
  } catch (e) {
    return reportError(e, ctx.stderr);
  }
}
