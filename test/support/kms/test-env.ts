import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An AWS environment that can only reach the test server: every AWS_* variable
 * of the outer process removed, shared config and credentials files in a temp
 * dir (so no real credentials are ever read), instance metadata disabled.
 */
export interface IsolatedAws {
  dir: string;
  env: Record<string, string>;
  /** Writes `~/.aws/credentials`-style text into the isolated credentials file. */
  writeCredentials(text: string): void;
  writeConfig(text: string): void;
  /** Makes `env` the process's AWS environment (the SDK reads process.env); returns the undo. */
  apply(): () => void;
  cleanup(): void;
}

export function isolatedAws(vars: Record<string, string>): IsolatedAws {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-aws-'));
  const configFile = join(dir, 'config');
  const credentialsFile = join(dir, 'credentials');
  writeFileSync(configFile, '');
  writeFileSync(credentialsFile, '');
  const env: Record<string, string> = {
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...vars,
  };
  return {
    dir,
    env,
    writeCredentials: (text) => writeFileSync(credentialsFile, text),
    writeConfig: (text) => writeFileSync(configFile, text),
    apply() {
      const saved = { ...process.env };
      for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
      Object.assign(process.env, env);
      return () => {
        for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
        Object.assign(process.env, saved);
      };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A copy of the process environment without any AWS_* variable, plus `vars`: for child processes. */
export function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return { ...env, ...vars };
}
