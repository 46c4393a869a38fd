/**
 * Helpers for the exec end-to-end tests: a sandbox whose files are encrypted
 * from standard input (the plaintext never lands on disk, so a scan for it
 * means something), the built CLI started sync or async, and a disk scan.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandbox, TSOPS, type Sandbox } from '../support/cli.js';

/** The CLI under test as a command and its first arguments; TSOPS_TEST_BIN points at another build's bundle entry. */
function command(args: string[]): [string, string[]] {
  return [process.execPath, [process.env['TSOPS_TEST_BIN'] ?? TSOPS, ...args]];
}

/** A value that appears nowhere unless tsops leaks it. */
export function uniqueSecret(): string {
  return `tsops-e2e-${randomBytes(12).toString('hex')}`;
}

export interface ExecBox extends Sandbox {
  /** Encrypts `text` (read from stdin) into `name`; returns the path. */
  encrypt(name: string, text: string): string;
  tsops(args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string>;
  start(args: string[], options?: { env?: NodeJS.ProcessEnv }): ChildProcessWithoutNullStreams;
}

export async function execBox(): Promise<ExecBox> {
  const box = await sandbox();
  const tsops: ExecBox['tsops'] = (args, options = {}) =>
    spawnSync(...command(args), {
      cwd: box.dir,
      env: { ...box.env, ...options.env },
      input: options.input ?? '',
      encoding: 'utf8',
      timeout: options.timeout ?? 30_000,
    });
  return {
    ...box,
    tsops,
    encrypt(name, text) {
      const r = tsops(['encrypt', '--age', box.recipient, '--filename-override', name], { input: text });
      if (r.status !== 0) throw new Error(`encrypt ${name} failed (${r.status}): ${r.stderr}`);
      const path = join(box.dir, name);
      writeFileSync(path, r.stdout);
      return path;
    },
    start(args, options = {}) {
      return spawn(...command(args), { cwd: box.dir, env: { ...box.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    },
  };
}

/** Lines of a stream in order, each handed out once: `await lines.next()`. */
export function lineReader(stream: NodeJS.ReadableStream, timeoutMs = 20_000): { next(match?: (line: string) => boolean): Promise<string> } {
  const lines: string[] = [];
  let partial = '';
  let wake: (() => void) | undefined;
  stream.on('data', (chunk: Buffer | string) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    wake?.();
  });
  return {
    async next(match = () => true) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (lines.length) {
          const line = lines.shift()!;
          if (match(line)) return line;
        }
        if (Date.now() > deadline) throw new Error(`no matching line within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

/** Resolves with the first line of `stream` that `match` accepts. */
export function waitForLine(stream: NodeJS.ReadableStream, match?: (line: string) => boolean): Promise<string> {
  return lineReader(stream).next(match);
}

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Collects everything and resolves when the process has ended. */
export function ended(child: ChildProcessWithoutNullStreams): Promise<Ended> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** True while a process with this id exists (a zombie counts: it still has an entry). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Where plaintext could land: the temp dirs, shared memory, the runtime dir, and `extra`. */
export function scanRoots(extra: string[] = []): string[] {
  const roots = [tmpdir(), '/dev/shm', ...extra];
  if (process.env['XDG_RUNTIME_DIR']) roots.push(process.env['XDG_RUNTIME_DIR']);
  return roots;
}

/** Every regular file under `roots` (no symlinks followed) whose bytes contain `needle`. */
export function filesContaining(needle: string, roots: string[]): string[] {
  const hits: string[] = [];
  const target = Buffer.from(needle);
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      let st;
      try {
        st = lstatSync(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && st.size < 64 * 1024 * 1024) {
        try {
          if (readFileSync(path).includes(target)) hits.push(path);
        } catch {
          // gone or unreadable meanwhile
        }
      }
    }
  };
  for (const root of new Set(roots)) walk(root);
  return [...new Set(hits)];
}
