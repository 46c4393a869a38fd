/**
 * Outside tools some tests drive for real: kubectl (its built-in kustomize
 * runs legacy exec plugins with --enable-alpha-plugins) and the pre-commit
 * framework. CI installs both (.ci/run); a clone without them skips those
 * tests, and test/support/tools-notice.ts says so on one line each.
 */
import { spawnSync } from 'node:child_process';

/** The kustomize version inside kubectl (`v5.5.0`), when kubectl is there and its kustomize runs exec plugins (v4 and later). */
export const KUBECTL_KUSTOMIZE: string | undefined = (() => {
  const out = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 20_000 });
  const version = out.status === 0 ? /Kustomize Version:\s*(v(\d+)\S*)/.exec(out.stdout) : null;
  return version && Number(version[2]) >= 4 ? version[1] : undefined;
})();

/** `pre-commit --version`'s number, when the framework is installed. */
export const PRE_COMMIT: string | undefined = (() => {
  const out = spawnSync('pre-commit', ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return out.status === 0 ? /(\d+\.\d+\.\d+)/.exec(out.stdout)?.[1] : undefined;
})();
