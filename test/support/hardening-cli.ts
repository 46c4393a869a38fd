/** CLI helpers shared by the hardening tests (crash, leak and error sweeps). */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnTsops } from './cli.js';

/** Starts the CLI; stderr is collected in `stderrText()`. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, cwd: string, stdio: 'ignore' | 'pipe' = 'ignore'): { child: ChildProcess; stderrText: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawnTsops(args, env, cwd, stdio);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stderrText: () => stderr, exit };
}

/** Names in `dir` (not recursive) that atomic writes use for their temp files. */
export function atomicTempFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.includes('.tsops-'));
}

export function removeAll(dir: string, names: string[]): void {
  for (const n of names) rmSync(join(dir, n), { recursive: true, force: true });
}
