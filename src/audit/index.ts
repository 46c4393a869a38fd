/**
 * The audit log: who did what to which encrypted file, recorded by each
 * command that encrypts, decrypts or rotates (one call per command). With no
 * audit config (the usual case) it costs one failed open. A backend that
 * cannot be reached is reported on one line and the command goes on; after
 * that first failure the backend is not tried again in this process, so a
 * recursive run does not wait on a dead server once per file.
 */
import { resolve } from 'node:path';
import { escapeControl } from '../escape.js';
import { auditConfigPath, readAuditConfig, type AuditConfig } from './config.js';
import { makeEvent, type AuditAction } from './event.js';

export type { AuditAction, AuditEvent } from './event.js';

export interface AuditContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stderr: NodeJS.WritableStream;
}

let loaded: { path: string; config: AuditConfig | undefined } | undefined;
const failedBackends = new Set<string>();
const queues = new Map<string, Promise<void>>();

/**
 * Records `action` on each of `files` (as given on the command line; made
 * absolute as sops does, `stdin` stays as is) with the master keys involved.
 */
export async function recordAudit(ctx: AuditContext, action: AuditAction, files: string | readonly string[], masterKeys: readonly string[] = []): Promise<void> {
  const config = await auditConfig(ctx);
  if (!config || (config.postgres.length === 0 && config.files.length === 0)) return;
  const events = (typeof files === 'string' ? [files] : files).map((f) => makeEvent(action, f === 'stdin' ? f : resolve(ctx.cwd, f), [...masterKeys]));
  await Promise.all([
    ...config.files.map((path) => deliver(ctx, `audit log ${path}`, async () => {
      const { appendEventLine } = await import('./jsonl.js');
      for (const event of events) appendEventLine(path, event);
    }, (e) => (e as NodeJS.ErrnoException).code ?? (e as Error).message)),
    ...config.postgres.map(async (connectionString) => {
      const pg = await import('./postgres.js');
      await deliver(ctx, `audit database (${pg.describeServer(connectionString)})`, async () => {
        for (const event of events) await pg.insertEvent(connectionString, event);
      }, (e) => pg.safeReason(e, connectionString));
    }),
  ]);
}

async function auditConfig(ctx: AuditContext): Promise<AuditConfig | undefined> {
  const path = auditConfigPath(ctx.env, ctx.cwd);
  if (loaded?.path === path) return loaded.config;
  let config: AuditConfig | undefined;
  try {
    config = await readAuditConfig(path);
  } catch (e) {
    say(ctx, `audit: ${(e as Error).message}; nothing recorded`);
  }
  loaded = { path, config };
  return config;
}

/** One backend's writes run one after another (files of a recursive run are handled in parallel), so its first failure stops the rest. */
function deliver(ctx: AuditContext, backend: string, write: () => Promise<void>, reason: (e: unknown) => string): Promise<void> {
  const next = (queues.get(backend) ?? Promise.resolve()).then(async () => {
    if (failedBackends.has(backend)) return;
    try {
      await write();
    } catch (e) {
      failedBackends.add(backend);
      say(ctx, `audit: could not record to the ${backend}: ${reason(e)}`);
    }
  });
  queues.set(backend, next);
  return next;
}

function say(ctx: AuditContext, message: string): void {
  ctx.stderr.write(`tsops: warning: ${escapeControl(message)}\n`);
}

/** Forgets the cached config and failed backends (several commands may run in one process). */
export function resetAudit(): void {
  loaded = undefined;
  failedBackends.clear();
  queues.clear();
}
