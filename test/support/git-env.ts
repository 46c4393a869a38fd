import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TSOPS, type Sandbox } from './cli.js';

/** The sandbox's environment with the built `tsops` on PATH (what git's drivers and hooks call) and a git identity. */
export function gitEnv(sb: Sandbox): NodeJS.ProcessEnv {
  const bin = join(sb.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'tsops'), `#!/bin/sh\nexec "${process.execPath}" "${TSOPS}" "$@"\n`);
  chmodSync(join(bin, 'tsops'), 0o755);
  return { ...sb.env, PATH: `${bin}:${process.env['PATH']}`, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e' };
}
