/** Vitest global setup: one line when the PostgreSQL server binaries are absent, so the audit-database tests never skip silently. */
import { POSTGRES_BIN, POSTGRES_NOTICE } from './postgres.js';

export default function setup(): void {
  if (!POSTGRES_BIN) process.stdout.write(`${POSTGRES_NOTICE}\n`);
}
