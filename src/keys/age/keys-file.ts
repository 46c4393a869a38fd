import { join } from 'node:path';
import { TsopsError } from '../../errors.js';

/**
 * `<userConfigDir>/sops/age/keys.txt`, as sops computes it per platform. Throws
 * when the environment names no config or home directory.
 */
export function defaultAgeKeysFile(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const base = userConfigDir(env, platform);
  if (!base) {
    throw new TsopsError(platform === 'win32' ? 'cannot find the age keys file: %AppData% is not set' : 'cannot find the age keys file: neither $XDG_CONFIG_HOME nor $HOME is set');
  }
  return join(base, 'sops', 'age', 'keys.txt');
}

function userConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  if (platform === 'win32') return env['AppData'] || env['APPDATA'] || undefined;
  if (env['XDG_CONFIG_HOME']) return env['XDG_CONFIG_HOME'];
  const home = env['HOME'];
  if (!home) return undefined;
  return platform === 'darwin' ? join(home, 'Library', 'Application Support') : join(home, '.config');
}
