/** Vitest global setup: one line for each outside tool whose tests are skipped, so a skip is never silent. */
import { KUBECTL_KUSTOMIZE, PRE_COMMIT } from './tools.js';

export default function setup(): void {
  if (!KUBECTL_KUSTOMIZE) process.stdout.write('kustomize: skipped the real `kubectl kustomize` builds: no kubectl with kustomize v4 or later on PATH (.ci/run installs it)\n');
  if (!PRE_COMMIT) process.stdout.write('pre-commit: skipped the run of the real pre-commit framework: `pre-commit` is not on PATH (.ci/run installs it)\n');
}
