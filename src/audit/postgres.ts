/**
 * sops's PostgreSQL backend: one row per event in `audit_event` (action,
 * username, file; the table's own defaults fill id and timestamp). The `pg`
 * client is loaded only here, so a machine without an audit config never
 * loads it. One connection per event: a command records one event per file,
 * and nothing stays open to hold the process (or exec-env's child) up.
 */
import type { AuditEvent } from './event.js';

const CONNECT_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 10_000;

export async function insertEvent(connectionString: string, event: AuditEvent): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS });
  // A socket error after connecting would otherwise be an unhandled 'error' event.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('INSERT INTO audit_event (action, username, file) VALUES ($1, $2, $3)', [event.action, event.user, event.file]);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The server a connection string names, without its password: what an error message may show. */
export function describeServer(connectionString: string): string {
  try {
    if (/^postgres(ql)?:\/\//i.test(connectionString)) {
      const url = new URL(connectionString);
      const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
      return `postgres ${user}${url.hostname || 'localhost'}${url.port ? `:${url.port}` : ''}${url.pathname.length > 1 ? url.pathname : ''}`;
    }
  } catch {
    // Falls through to the key=value form.
  }
  const pairs = new Map([...connectionString.matchAll(/(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/g)].map((m) => [m[1]!.toLowerCase(), m[2]!.replace(/^'|'$/g, '')]));
  const user = pairs.get('user') ? `${pairs.get('user')}@` : '';
  return `postgres ${user}${pairs.get('host') ?? 'localhost'}${pairs.get('port') ? `:${pairs.get('port')}` : ''}${pairs.get('dbname') ? `/${pairs.get('dbname')}` : ''}`;
}

/** A driver error as one line that cannot carry the password: any appearance of it is masked. */
export function safeReason(err: unknown, connectionString: string): string {
  const e = err as { message?: string; code?: string };
  let text = (e?.message || e?.code || String(err)).split('\n')[0]!;
  for (const secret of passwordsIn(connectionString)) if (secret.length >= 1) text = text.split(secret).join('***');
  return text;
}

function passwordsIn(connectionString: string): string[] {
  const found: string[] = [];
  try {
    const url = new URL(connectionString);
    if (url.password) found.push(url.password, decodeURIComponent(url.password));
    const param = url.searchParams.get('password');
    if (param) found.push(param);
  } catch {
    // Not a URL.
  }
  for (const m of connectionString.matchAll(/password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/gi)) found.push(m[1]!.replace(/^'|'$/g, ''));
  return found.filter(Boolean);
}
