import type { Command } from 'commander';
import { TsopsError, UsageError } from '../errors.js';
import { ExitCode } from './exit-codes.js';
import { beginCommand, processContext, settleStdout, type CliContext } from './context.js';
import { PERSONAL_KIND } from '../keys/registry.js';
import { addGroupKeyFlags, addRotateFlags, isKeyChangeFlag } from './key-flags.js';
import { addCommonOptions, addKeyOptions, type CommonOption } from './options.js';
import { reportError } from './report.js';
import { escapeControl } from '../escape.js';

declare const TSOPS_VERSION: string;
/** Every help text wraps here, whatever the terminal, so help reads the same in a pipe, a terminal and the docs. */
const HELP_WIDTH = 80;

const VERSION = typeof TSOPS_VERSION === 'string' ? TSOPS_VERSION : '0.0.0-dev';

const COMMANDS = new Set(['encrypt', 'decrypt', 'edit', 'set', 'unset', 'rotate', 'git', 'merge-driver', 'resolve', 'guard', 'updatekeys', 'status', 'init', 'exec-env', 'exec-file', 'run', 'keygen', 'filestatus', 'groups', 'publish', 'krm', 'scan', 'help']);

/** Commands that read files' keys and the config but print or rewrite no document of their own. */
const NOT_READ_BY_KEY_COMMANDS: readonly CommonOption[] = ['input-type', 'output-type', 'indent', 'ignore-mac', 'filename-override'];

const NO_OP_FLAGS = ['--disable-version-check', '--enable-local-keyservice'];

/** Every command sops has; the ones missing from COMMANDS are refused by name, never taken for a file to edit. */
const SOPS_COMMANDS = ['exec-env', 'exec-file', 'publish', 'keyservice', 'filestatus', 'groups', 'updatekeys', 'decrypt', 'encrypt', 'rotate', 'edit', 'set', 'unset', 'help'];

/**
 * sops's older spellings still reach the right command: `-e FILE`, `-d FILE`,
 * `--set '["a"] v' FILE`, and a bare `FILE`, which means edit.
 */
export function normalizeArgs(args: string[]): string[] {
  // sops switches with nothing to switch in tsops (it checks no versions and has no key service to disable).
  const dashDash = args.indexOf('--');
  const ownArgs = ['exec-env', 'exec-file', 'run'].includes(args[0] ?? '');
  const argv = ownArgs ? args : args.filter((a, i) => (dashDash >= 0 && i > dashDash) || !NO_OP_FLAGS.includes(a));
  const first = argv.find((a) => !a.startsWith('-'));
  if (argv.length === 0 || (first !== undefined && COMMANDS.has(first) && argv.indexOf(first) === 0)) return argv;
  if (argv.some((a) => a === '--version' || a === '-v' || a === '--help' || a === '-h')) return argv;
  if (first !== undefined && argv.indexOf(first) === 0 && SOPS_COMMANDS.includes(first)) {
    throw new TsopsError(`"${first}" is a sops command that tsops does not have (see tsops --help)`);
  }
  const take = (flags: string[]): string[] | undefined => {
    const i = argv.findIndex((a) => flags.includes(a));
    return i < 0 ? undefined : [...argv.slice(0, i), ...argv.slice(i + 1)];
  };
  const enc = take(['-e', '--encrypt']);
  if (enc) return ['encrypt', ...enc];
  const dec = take(['-d', '--decrypt']);
  if (dec) return ['decrypt', ...dec];
  const rot = take(['-r', '--rotate']);
  if (rot) return ['rotate', ...rot];
  const setAt = argv.findIndex((a) => a === '--set' || a.startsWith('--set='));
  if (setAt >= 0) {
    const inline = argv[setAt]!.startsWith('--set=');
    const spec = inline ? argv[setAt]!.slice('--set='.length) : argv[setAt + 1] ?? '';
    const rest = [...argv.slice(0, setAt), ...argv.slice(setAt + (inline ? 1 : 2))];
    return ['set', '--legacy', spec, ...rest];
  }
  const keyChange = argv.find(isKeyChangeFlag);
  if (keyChange) throw new UsageError(`${keyChange.split('=')[0]} changes master keys only with --rotate: tsops -r -i ${keyChange.split('=')[0]} ... FILE`);
  return ['edit', '--bare', ...argv];
}

// Loaded on first use: `decrypt FILE` and exec-env never parse options with it.
let commander: typeof import('commander') | undefined;

async function program(ctx: CliContext, setExit: (code: number) => void, only?: string): Promise<Command> {
  commander ??= await import('commander');
  // Tools that check `sops --version` read the second line: the sops file format version tsops writes (only asked without a command).
  const formatVersion = only === undefined ? (await import('../sops/metadata.js')).SOPS_FORMAT_VERSION : '';
  const cli = new commander.Command('tsops')
    .description('Encrypt the values of YAML, JSON, .env and INI files; sops-compatible')
    .version(`${VERSION}\nsops format ${formatVersion}`, '-v, --version')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ getOutHelpWidth: () => HELP_WIDTH, getErrHelpWidth: () => HELP_WIDTH, writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s), outputError: (s, write) => write(`tsops: ${escapeControl(s.replace(/^error: /, '').trim())}\n`) })
    // The commands that print their own help (exec-env, krm) wrap at this width too; commands inherit it.
    .configureHelp({ helpWidth: HELP_WIDTH, minWidthToWrap: 20 });

  const done = (p: Promise<number>): Promise<void> => p.then(setExit);
  // Building every command's options costs start-up time; help needs them all, a command needs one.
  const wanted = (name: string): boolean => only === undefined || only === name;

  if (wanted('encrypt'))
    addKeyOptions(addCommonOptions(cli.command('encrypt').argument('[file]', 'plaintext file (default: standard input)'), ['ignore-mac']))
      .description('encrypt a file (to standard output, --output, or in place with -i)')
      .option('-i, --in-place', 'write the result over the input file')
      .option('--output <file>', 'write the result to this file')
      .option('--reuse-data-key', 'keep the data key and unchanged ciphertext of the file already at --output/-i (minimal diff; whoever knew that data key can read the new values)')
      .option('--fresh', 'a new data key and new ciphertext (the default)')
      .action(async (file, opts) => done((await import('./commands/encrypt.js')).encryptCommand(file, opts, ctx)));

  if (wanted('decrypt'))
    addCommonOptions(cli.command('decrypt').argument('[file]', 'encrypted file (default: standard input)'))
      .description('decrypt a file, checking its MAC (to standard output, --output, or in place with -i)')
      .option('-i, --in-place', 'write the result over the input file')
      .option('--output <file>', 'write the result to this file')
      .option('--extract <path>', 'print one value, e.g. \'["db"]["password"]\'')
      .option('--flatten', 'with --output-type github-env: nested values become PATH_TO_LEAF variables')
      .option('--check', 'decrypt nothing to any output: verify the data key opens and the MAC matches, print a summary')
      .option('-r, --recursive', 'with --check: every encrypted file under a directory (respecting .gitignore)')
      .option('--jobs <n>', 'files checked at once with -r (default: $TSOPS_JOBS, else 16)')
      .action(async (file, opts) => done((await import('./commands/decrypt.js')).decryptCommand(file, opts, ctx)));

  if (wanted('edit'))
    addKeyOptions(addCommonOptions(cli.command('edit').argument('<file>', 'encrypted file (created if missing)'), ['output-type', 'filename-override']))
      .description('edit the decrypted file in $EDITOR; only changed values get new ciphertext')
      .option('-s, --show-master-keys', 'show the sops metadata in the editor')
      .addOption(new commander.Option('--bare').hideHelp())
      .action(async (file, opts) => done((await import('./commands/edit.js')).editCommand(file, opts, ctx)));

  if (wanted('set'))
    addCommonOptions(cli.command('set').argument('[file]').argument('[path]', 'tree path, e.g. \'["db"]["password"]\'').argument('[value]', 'JSON value (with --value-file: the file holding it)'))
      .description('set one value (JSON) in an encrypted file, rewriting the file')
      .option('--value-file', 'the third argument is a file holding the JSON value (keeps it out of process listings)')
      .option('--value-stdin', 'read the JSON value from standard input (no third argument)')
      .option('--idempotent', 'do not write when the value is already there')
      .option('-i, --in-place', 'accepted for the legacy --set form, which always writes in place')
      .addOption(new commander.Option('--legacy <spec>').hideHelp())
      .action(async (file, path, value, opts) => {
        const m = await import('./commands/set.js');
        if (opts.legacy === undefined) return done(m.setCommand(file, path, value, opts, ctx));
        if (file === undefined || path !== undefined) throw new TsopsError('--set takes one file, after the flags', 'no-file-given');
        const legacy = m.splitLegacySet(opts.legacy);
        return done(m.setCommand(file, legacy.path, legacy.value, opts, ctx));
      });

  if (wanted('unset'))
    addCommonOptions(cli.command('unset').argument('<file>').argument('<path>', 'tree path, e.g. \'["db"]["password"]\''))
      .description('remove one key or list element from an encrypted file')
      .option('--idempotent', 'succeed without writing when the key is not there')
      .action(async (file, path, opts) => done((await import('./commands/set.js')).unsetCommand(file, path, opts, ctx)));

  if (wanted('rotate'))
    addRotateFlags(
      addCommonOptions(cli.command('rotate').argument('<file>', 'encrypted file (a directory with -r)'), ['output-type', 'filename-override'])
        .description('new data key, every value re-encrypted; optionally add or remove master keys')
        .option('-i, --in-place', 'write the result over the file')
        .option('--output <file>', 'write the result to this file'),
    )
      .option('-r, --recursive', 'rotate every encrypted file under a directory, in place (respecting .gitignore)')
      .option('--older-than <age>', 'with -r: only files whose data key is older than this, e.g. 90d, 12w (see `tsops status`)')
      .option('--jobs <n>', 'files processed at once with -r (default: $TSOPS_JOBS, else 16)')
      .action(async (file, opts) => done((await import('./commands/rotate.js')).rotateCommand(file, opts, ctx)));

  if (wanted('git')) {
    const git = cli.command('git').description('git integration: plaintext diffs, value-level merges, a pre-commit guard');
    git
      .command('install')
      .argument('[patterns...]', 'file patterns for .gitattributes (default: *.enc.yaml, *.enc.json, *.enc.env, ...)')
      .description('register the diff and merge drivers and the pre-commit guard in this repository')
      .action(async (patterns) => done((await import('./commands/git.js')).installCommand(patterns, ctx)));
    git
      .command('textconv')
      .argument('<file>')
      .description('print a file decrypted when possible, as it is otherwise (git diff driver)')
      .action(async (file) => done((await import('./commands/git.js')).textconvCommand(file, ctx)));
  }

  if (wanted('merge-driver'))
    cli
      .command('merge-driver')
      .argument('<base>')
      .argument('<ours>')
      .argument('<theirs>')
      .argument('<path>')
      .description('git merge driver: merge encrypted files value by value (%O %A %B %P)')
      .action(async (base, ours, theirs, path) => done((await import('./commands/git.js')).mergeDriverCommand(base, ours, theirs, path, ctx)));

  if (wanted('groups')) {
    const groups = cli.command('groups').description('add or delete key groups of an encrypted file (the data key is re-wrapped; values are untouched)');
    const groupsOptions = (cmd: Command): Command =>
      addCommonOptions(cmd, ['ignore-mac', 'filename-override'])
        .option('-f, --file <file>', 'the encrypted file')
        .option('-i, --in-place', 'write the result over the file (default: standard output)')
        .option('--shamir-secret-sharing-threshold <n>', 'key groups needed to decrypt');
    addGroupKeyFlags(groupsOptions(groups.command('add').argument('[args...]')).description('add a key group with the given keys'))
      .action(async (args, opts) => done((await import('./commands/groups.js')).groupsAddCommand(args, opts, ctx)));
    groupsOptions(groups.command('delete').argument('[index...]', 'the group to delete, from 0'))
      .description('delete the key group at an index')
      .action(async (args, opts) => done((await import('./commands/groups.js')).groupsDeleteCommand(args, opts, ctx)));
  }

  if (wanted('updatekeys'))
    addCommonOptions(cli.command('updatekeys').argument('<paths...>', 'encrypted files, or directories with -r'), NOT_READ_BY_KEY_COMMANDS)
      .description('bring master keys in line with the creation rules; removing a key rotates the data key')
      .option('-y, --yes', 'do not ask for confirmation')
      .option('--no-rotate', 'keep the data key when keys are removed (removed keys can still read new versions)')
      .option('-r, --recursive', 'walk directories (respecting .gitignore)')
      .option('--jobs <n>', 'files processed at once (default: $TSOPS_JOBS, else 16)')
      .action(async (paths, opts) => done((await import('./commands/updatekeys.js')).updatekeysCommand(paths, opts, ctx)));

  if (wanted('status'))
    addCommonOptions(cli.command('status').argument('[dir]', 'directory to report on (default: the current one)'), NOT_READ_BY_KEY_COMMANDS)
      .description('who can read what: master keys, key groups, config drift and MAC state of every encrypted file')
      .option('--json', 'machine-readable output (schema: docs/status.md)')
      .option('--recipient <id>', 'only the files this key (age recipient, PGP fingerprint, KMS ARN) can read')
      .option('--jobs <n>', 'files examined at once (default: $TSOPS_JOBS, else 16)')
      .action(async (dir, opts) => done((await import('./commands/status.js')).statusCommand(dir, opts, ctx)));

  if (wanted('init'))
    cli
      .command('init')
      .description('set a repository up: age key, .sopsrc, .gitignore, git integration (asks on a terminal)')
      .option('--path-regex <regex>', 'files to encrypt (default: \\.enc\\.(ya?ml|json|env|ini)$)')
      .option(`--${PERSONAL_KIND.flag} <recipients>`, 'more age recipients for the creation rule')
      .option('--no-key', 'do not create an age key')
      .option('--ignore <patterns>', '.gitignore patterns for plaintext files, comma-separated')
      .option('--no-git', 'do not install the git integration')
      .option('-y, --yes', 'do not ask; use the flags and defaults')
      .action(async (opts) => done((await import('./commands/init.js')).initCommand(opts, ctx)));

  if (wanted('guard'))
    cli
      .command('guard')
      .argument('[files...]', 'check only these files (their staged versions), as the pre-commit framework passes them')
      .option('--staged', 'check the staged versions of files (the default; for pre-commit hooks)')
      .description('refuse a commit that stages a tsops-covered file unencrypted or with a MAC that does not verify, or a secret in any staged file')
      .action(async (files) => done((await import('./commands/git.js')).guardCommand(ctx, files)));

  if (wanted('scan'))
    cli
      .command('scan')
      .argument('[dir]', 'work tree or directory (default: the current one)')
      .description('look for secrets in plaintext files: tracked files, a directory outside git, or (--history) every commit; exit 0 clean, 1 found, 2 unreadable')
      .option('--history', 'every blob of every commit reachable from HEAD, named by the commit that added it')
      .action(async (dir, opts) => done((await import('./commands/scan.js')).scanCommand(dir, opts, ctx)));

  if (wanted('resolve'))
    addCommonOptions(cli.command('resolve').argument('<file>'), NOT_READ_BY_KEY_COMMANDS)
      .description('resolve values both branches changed, in $EDITOR, after a merge')
      .action(async (file, opts) => done((await import('./commands/git.js')).resolveCommand(file, opts, ctx)));

  if (wanted('keygen'))
    cli
      .command('keygen')
      .description('create an age identity in the default keys file and print its recipient')
      .option('--output <file>', 'keys file to append to')
      .action(async (opts) => done((await import('./commands/keygen.js')).keygenCommand(opts, ctx)));

  if (wanted('filestatus'))
    addCommonOptions(cli.command('filestatus').argument('<files...>'), ['output-type', 'indent', 'ignore-mac', 'decryption-order', 'filename-override', 'config'])
      .description('print whether files are encrypted: {"encrypted":true|false}')
      .option('--json', 'print a JSON array even for one file')
      .action(async (files, opts) => done((await import('./commands/filestatus.js')).filestatusCommand(files, opts, ctx)));

  if (wanted('publish'))
    cli
      .command('publish')
      .argument('[file]', 'encrypted file, or a directory with --recursive')
      .description('publish an encrypted file or directory to the destination its destination_rules name (S3, Vault KV)')
      .option('-y, --yes', 'pre-approve all uploads and run non-interactively')
      .option('--omit-extensions', 'omit file extensions in the destination path')
      .option('--recursive', 'publish every file under a directory')
      .option('--input-type <type>', 'input format: yaml, json, dotenv, ini or binary (default: from the file name)')
      .option('--decryption-order <types>', 'order in which to try master key types (env SOPS_DECRYPTION_ORDER)')
      .option('--config <path>', 'config file to use instead of searching for .sopsrc / .sops.yaml')
      .option('--verbose', 'more output on stderr')
      .action(async (file, opts) => done((await import('./commands/publish.js')).publishCommand(file, opts, ctx)));

  // Listed for the overview; main() hands them their arguments before this parser sees them.
  if (only === undefined) {
    cli.command('exec-env').argument('<file>').argument('<command>').description("run a command with a file's values in its environment (see tsops exec-env --help)");
    cli.command('exec-file').argument('<file>').argument('<command>').description('run a command with the decrypted file at a private path, {} in the command (see tsops exec-file --help)');
    cli.command('run').argument('[file]').argument('<command>').description('exec-env under the name dotenv tools use (see tsops run --help)');
  }

  if (wanted('krm'))
    cli
      .command('krm')
      .argument('[manifest]', 'a ksops manifest (legacy exec plugin); none: a ResourceList on standard input (KRM function)')
      .description('kustomize plugin for ksops manifests; `tsops krm install` installs it as the legacy plugin (see tsops krm --help)');

  return cli;
}

/**
 * `help CMD ...` as `CMD ... --help`: the commands that parse their own
 * arguments (exec-env, run, exec-file, krm) then answer it as they answer
 * `--help`, and every command shows the same text both ways.
 */
function helpAsFlag(args: string[]): string[] {
  if (args[0] !== 'help') return args;
  return args.length === 1 ? ['--help'] : [...args.slice(1), '--help'];
}

/** Runs the CLI; sets process.exitCode and never throws or prints a stack trace. */
export async function main(argv: string[], ctx: CliContext = processContext()): Promise<void> {
  let code = 0;
  beginCommand();
  try {
    const args = helpAsFlag(normalizeArgs(argv));
    // exec-env, run and exec-file parse their own arguments: commander would drop the `--` before the command.
    if (args[0] === 'exec-env' || args[0] === 'run' || args[0] === 'exec-file') {
      const command = args[0] === 'exec-file' ? await import('./commands/exec-file.js') : await import('./commands/exec-env.js');
      code = await command.run(args.slice(1), ctx, args[0]);
      process.exitCode = settleStdout(code);
      return;
    }
    // krm reads a manifest path or a ResourceList, and has an `install` of its own.
    if (args[0] === 'krm') {
      code = await (await import('./commands/krm.js')).run(args.slice(1), ctx);
      process.exitCode = settleStdout(code);
      return;
    }
    // git's merge driver: four paths, never options (a file may be named `-v.enc.yaml`); `--` is optional for older installs.
    // So is the diff driver (`git textconv FILE`), which git hands the work-tree path.
    const textconv = args[0] === 'git' && args[1] === 'textconv';
    if ((args[0] === 'merge-driver' || textconv) && !args.includes('--help')) {
      const rest = args.slice(textconv ? 2 : 1);
      const paths = rest[0] === '--' ? rest.slice(1) : rest;
      const git = await import('./commands/git.js');
      if (paths.length !== (textconv ? 1 : 4)) throw new UsageError(textconv ? 'git textconv takes exactly one path' : 'merge-driver takes exactly four paths: %O %A %B %P');
      code = textconv ? await git.textconvCommand(paths[0]!, ctx) : await git.mergeDriverCommand(paths[0]!, paths[1]!, paths[2]!, paths[3]!, ctx);
      process.exitCode = settleStdout(code);
      return;
    }
    // The commonest call, `decrypt FILE` without flags, skips building the option parser: start-up is most of its run.
    if (args.length === 2 && args[0] === 'decrypt' && !args[1]!.startsWith('-')) {
      code = await (await import('./commands/decrypt.js')).decryptCommand(args[1], {}, ctx);
      process.exitCode = settleStdout(code);
      return;
    }
    const only = COMMANDS.has(args[0] ?? '') && args[0] !== 'help' && !args.includes('--help') && !args.includes('-h') ? args[0] : undefined;
    await (await program(ctx, (c) => (code = c), only)).parseAsync(args, { from: 'user' });
  } catch (err) {
    if (commander && err instanceof commander.CommanderError) {
      code = err.exitCode === 0 ? 0 : err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : ExitCode.Generic;
    } else {
      code = reportError(err, ctx.stderr);
    }
  }
  process.exitCode = settleStdout(code);
}
