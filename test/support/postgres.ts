/**
 * A throwaway PostgreSQL cluster for the audit-log tests: Debian's server
 * binaries, a data directory in a temp dir, a port of its own,
 * run as `nobody` when the tests run as root (initdb refuses root). Started
 * with `pg_ctl -w`, which returns once the server accepts connections.
 * Only TCP on 127.0.0.1 (no Unix socket, whose path length a long TMPDIR
 * would break). Without the binaries, POSTGRES_BIN is undefined and the tests skip.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT_DIR = '/usr/lib/postgresql';

function findBin(): string | undefined {
  if (!existsSync(ROOT_DIR)) return undefined;
  const versions = readdirSync(ROOT_DIR).filter((v) => existsSync(join(ROOT_DIR, v, 'bin', 'initdb')) && existsSync(join(ROOT_DIR, v, 'bin', 'pg_ctl')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(ROOT_DIR, versions[0], 'bin');
}

export const POSTGRES_BIN = findBin();
export const POSTGRES_NOTICE = `postgres: skipped the audit-log tests against a real server: no initdb/pg_ctl under ${ROOT_DIR}/*/bin (Debian's postgresql package; .ci/run installs it)`;

/** The role sops's audit schema creates: may insert events and nothing else. */
export const AUDIT_ROLE = { user: 'sops', password: 'sops-Audit-pw-7f3c' };

export interface Postgres {
  port: number;
  /** The sops role's TCP connection string (with its password). */
  auditUrl: string;
  /** Rows of audit_event, oldest first. */
  rows(): Promise<{ action: string; username: string; file: string; timestamp: Date }[]>;
  stop(): void;
}

const NOBODY = { uid: 65534, gid: 65534 };
const SUPERUSER_PASSWORD = 'throwaway-superuser-pw';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<Postgres> {
  const bin = POSTGRES_BIN;
  if (!bin) throw new Error(POSTGRES_NOTICE);
  const asRoot = process.getuid?.() === 0;
  // As root the cluster runs as nobody, who must reach the directory: /tmp, not a private TMPDIR.
  const dir = mkdtempSync(join(asRoot ? '/tmp' : tmpdir(), 'tsops-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${SUPERUSER_PASSWORD}\n`, { mode: 0o600 });
  if (asRoot) {
    chownSync(dir, NOBODY.uid, NOBODY.gid);
    chownSync(pwfile, NOBODY.uid, NOBODY.gid);
  }
  chmodSync(dir, 0o755);
  const run = (tool: string, args: string[]): void => {
    const command = asRoot ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', join(bin, tool), ...args] : [join(bin, tool), ...args];
    execFileSync(command[0]!, command.slice(1), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'], LANG: 'C.UTF-8', HOME: dir } });
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8']);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off`, 'start']);
      break;
    } catch (e) {
      // The probed port was taken in between: another one.
      if (attempt >= 3) throw e;
    }
  }
  const stop = (): void => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const { Client } = await import('pg');
  const admin = async <T>(work: (c: InstanceType<typeof Client>) => Promise<T>): Promise<T> => {
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password: SUPERUSER_PASSWORD, database: 'postgres' });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  try {
    // sops's audit/schema.sql: the table, and a role that may only insert.
    await admin(async (c) => {
      await c.query('CREATE TABLE audit_event (id SERIAL PRIMARY KEY, timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP, action TEXT, username TEXT, file TEXT)');
      await c.query(`CREATE ROLE ${AUDIT_ROLE.user} WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN PASSWORD '${AUDIT_ROLE.password}'`);
      await c.query(`GRANT INSERT ON audit_event TO ${AUDIT_ROLE.user}`);
      await c.query(`GRANT USAGE ON audit_event_id_seq TO ${AUDIT_ROLE.user}`);
    });
  } catch (e) {
    stop();
    throw e;
  }
  return {
    port,
    auditUrl: `postgres://${AUDIT_ROLE.user}:${AUDIT_ROLE.password}@127.0.0.1:${port}/postgres`,
    rows: () => admin(async (c) => (await c.query('SELECT action, username, file, timestamp FROM audit_event ORDER BY id')).rows),
    stop,
  };
}
