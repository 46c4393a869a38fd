import { readFileSync } from 'node:fs';
import { TsopsError } from '../errors.js';

/** The whole of a file, or of stdin for `-` / no file. Missing files are sops's exit 100. */
export async function readInput(path: string | undefined): Promise<Buffer> {
  if (path === undefined || path === '-') return readStdin();
  try {
    // Synchronous on purpose: one read does not need the thread pool, and starting it costs more.
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // `/dev/stdin` cannot be opened when standard input is a socket (as some process runners give): read the descriptor itself.
    if (code === 'ENXIO' && /^\/(dev\/stdin|dev\/fd\/0|proc\/self\/fd\/0)$/.test(path)) return readStdin();
    if (code === 'ENOENT') throw new TsopsError('no such file', 'file-not-found', { file: path });
    if (code === 'EISDIR') throw new TsopsError('is a directory', 'unreadable-input', { file: path });
    if (code === 'EACCES' || code === 'EPERM') throw new TsopsError('permission denied', 'unreadable-input', { file: path });
    throw new TsopsError(`cannot read: ${code ?? 'error'}`, 'unreadable-input', { file: path });
  }
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
