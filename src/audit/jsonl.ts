import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import type { AuditEvent } from './event.js';

/**
 * Appends one JSON object per line. O_APPEND makes each line's write land at
 * the end even with several processes logging at once; a new file is made
 * readable by its owner only (file names say what a team keeps secret).
 * O_NOFOLLOW: a link planted at the log's path (a shared directory) must not
 * turn the append into a write to whatever it points at.
 */
export function appendEventLine(path: string, event: AuditEvent): void {
  const line = JSON.stringify({ time: event.time, action: event.action, user: event.user, host: event.host, file: event.file, master_keys: event.masterKeys }) + '\n';
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
}
