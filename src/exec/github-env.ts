/**
 * Secrets handed to the later steps of a GitHub Actions job: each value is
 * first registered with the runner's log masker (`::add-mask::` on stdout,
 * one command per line of the value, as the runner masks line by line),
 * then appended to the file `$GITHUB_ENV` names in the runner's multi-line
 * form `NAME<<DELIMITER`, value, `DELIMITER`.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, writeSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TsopsError } from '../errors.js';
import { escapeControl } from '../escape.js';

/** What a variable name must look like: a portable shell name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names a file must not set for later steps: they change how the runner,
 * shells, loaders and interpreters behave, so a planted encrypted file
 * (anyone can encrypt for a public age recipient) could run code through them.
 */
const PROTECTED_NAMES = new Set(['PATH', 'BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'IFS', 'CDPATH', 'HOME', 'NODE_OPTIONS', 'NODE_PATH', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PERL5OPT', 'PERL5LIB', 'RUBYOPT', 'RUBYLIB', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'GIT_ASKPASS', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG_COUNT', 'SSH_ASKPASS', 'EDITOR', 'VISUAL', 'PAGER', 'GIT_PAGER', 'BROWSER', 'PROMPT_COMMAND', 'ZDOTDIR', 'PERL5DB', 'PERLLIB', 'GCONV_PATH', 'OPENSSL_CONF', 'OPENSSL_ENGINES', 'LESSOPEN', 'LESSCLOSE', 'MANPAGER', 'CLASSPATH', 'MAVEN_OPTS', 'GRADLE_OPTS', 'RUSTC_WRAPPER', 'BASH_XTRACEFD',
  // These redirect later steps' network traffic or the certificates they trust.
  'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'FTP_PROXY', 'NODE_EXTRA_CA_CERTS', 'NODE_TLS_REJECT_UNAUTHORIZED', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'AWS_CA_BUNDLE']);
/**
 * Whole families that run programs or load code: git alone has
 * GIT_EXTERNAL_DIFF, GIT_PROXY_COMMAND, GIT_SEQUENCE_EDITOR and
 * GIT_TEMPLATE_DIR (hooks); npm and yarn read any setting (script-shell)
 * from the environment; Python reads PYTHONWARNINGS, .NET DOTNET_STARTUP_HOOKS.
 */
const PROTECTED_PREFIXES = ['GITHUB_', 'RUNNER_', 'ACTIONS_', 'LD_', 'DYLD_', 'SOPS_', 'TSOPS_', 'GIT_', 'NPM_CONFIG_', 'YARN_', 'PYTHON', 'DOTNET_', 'CORECLR_', 'COMPLUS_', 'COR_'];

export class GithubEnvError extends TsopsError {
  constructor(message: string) {
    super(message, 'failed');
  }
}

/** Refuses a name that is not a plain variable name or that steers the runner or a program. */
export function checkExportName(name: string): void {
  if (!ENV_NAME.test(name)) throw new GithubEnvError(`key ${JSON.stringify(escapeControl(name))} is not a valid environment variable name (letters, digits and _, not starting with a digit)`);
  if (PROTECTED_NAMES.has(name.toUpperCase()) || PROTECTED_PREFIXES.some((p) => name.toUpperCase().startsWith(p))) {
    throw new GithubEnvError(`key ${name} would change how later steps run; it is not exported to $GITHUB_ENV`);
  }
}

/**
 * The `::add-mask::` commands for a value: one per line that has more than
 * white space (and one for it trimmed) (masking a blank would hide every blank of the log). The data
 * is escaped as the runner unescapes it (`%`, CR, LF).
 */
export function maskCommands(value: string): string {
  return value
    .split(/\r\n|\r|\n/)
    .filter((line) => line.trim() !== '')
    // Also without the blanks around it: a program printing the line may trim it.
    .flatMap((line) => (line.trim() === line ? [line] : [line, line.trim()]))
    .map((line) => `::add-mask::${escapeCommandData(line)}\n`)
    .join('');
}

function escapeCommandData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A delimiter that is no line of any of the values. */
export function freshDelimiter(values: Iterable<string>): string {
  const all = [...values];
  for (;;) {
    const delimiter = `TSOPS_EOF_${randomBytes(16).toString('hex')}`;
    if (!all.some((v) => v.includes(delimiter))) return delimiter;
  }
}

/** One variable in the runner's multi-line form. */
export function envRecord(name: string, value: string, delimiter: string): string {
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

/**
 * The file `$GITHUB_ENV` names, opened for appending. The runner creates it
 * before the step runs; anything other than an existing regular file at an
 * absolute path (unset, relative, a symlink, a FIFO, a device, missing) is
 * refused rather than created, so a wrong setting cannot put secrets elsewhere.
 */
export function openGithubEnv(env: NodeJS.ProcessEnv): number {
  const path = env['GITHUB_ENV'];
  if (path === undefined || path === '') throw new GithubEnvError('GITHUB_ENV is not set: --output-type github-env runs in a GitHub Actions step');
  const shown = escapeControl(path);
  if (!isAbsolute(path) || escapeControl(path) !== path) throw new GithubEnvError(`GITHUB_ENV (${shown}) is not an absolute path`);
  let before;
  try {
    before = lstatSync(path);
  } catch {
    throw new GithubEnvError(`GITHUB_ENV names ${shown}, which does not exist (the runner creates it)`);
  }
  if (!before.isFile()) throw new GithubEnvError(`GITHUB_ENV names ${shown}, which is not a regular file`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw new GithubEnvError(`cannot open GITHUB_ENV (${shown}): ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const after = fstatSync(fd);
  if (!after.isFile() || after.ino !== before.ino || after.dev !== before.dev) {
    closeSync(fd);
    throw new GithubEnvError(`GITHUB_ENV names ${shown}, which changed while it was opened`);
  }
  return fd;
}

/** Writes all of `text` to `fd`. */
export function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  try {
    for (let rest = bytes; rest.length > 0; ) rest = rest.subarray(writeSync(fd, rest));
  } finally {
    bytes.fill(0);
  }
}
