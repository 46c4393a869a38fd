/**
 * `--user NAME`: the account a command runs as. Names are resolved with the
 * system's own tools (`id`, `getent`), so NSS sources such as LDAP work.
 */
import { execFileSync } from 'node:child_process';
import { TsopsError } from '../errors.js';

export interface RunAsUser {
  uid: number;
  gid: number;
  /** HOME, USER and LOGNAME of that account, as sops sets them. */
  env: Record<string, string>;
}

export function resolveUser(name: string, currentUid: number | undefined = process.getuid?.()): RunAsUser {
  if (currentUid !== 0) throw new TsopsError('--user needs tsops to run as root');
  if (name === '' || name.startsWith('-') || name.includes('\0')) throw new TsopsError(`--user: invalid user name ${JSON.stringify(name)}`);
  const ask = (args: string[]): string => {
    try {
      return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      throw new TsopsError(`--user: no such user ${JSON.stringify(name)}`);
    }
  };
  const uid = Number(ask(['id', '-u', name]));
  const gid = Number(ask(['id', '-g', name]));
  const login = ask(['id', '-un', name]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new TsopsError(`--user: cannot resolve ${JSON.stringify(name)}`);
  const env: Record<string, string> = { USER: login, LOGNAME: login };
  const home = homeOf(name);
  if (home) env['HOME'] = home;
  return { uid, gid, env };
}

function homeOf(name: string): string | undefined {
  try {
    const entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0] ?? '';
    const home = entry.split(':')[5];
    return home || undefined;
  } catch {
    return undefined;
  }
}
