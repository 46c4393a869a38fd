import { hostname, userInfo } from 'node:os';

/** What a command did with a file: sops's three actions, and the other tsops commands that unwrap a data key. */
export type AuditAction = 'encrypt' | 'decrypt' | 'rotate' | 'edit' | 'exec-env' | 'exec-file' | 'set' | 'unset';

export interface AuditEvent {
  time: string;
  action: AuditAction;
  /** The login name of the process's user (from the user database, as sops records it; not $USER). */
  user: string;
  host: string;
  /** Absolute, as sops records it; `stdin` (or the --filename-override name) for standard input. */
  file: string;
  /** Identities of the master keys that unwrapped the data key (decrypting) or were wrapped for (encrypting). */
  masterKeys: string[];
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // A uid with no entry in the user database (containers): the number is still who it was.
    return String(process.getuid?.() ?? 'unknown');
  }
}

export function makeEvent(action: AuditAction, file: string, masterKeys: string[], now: Date = new Date()): AuditEvent {
  return { time: now.toISOString(), action, user: currentUser(), host: hostname(), file, masterKeys: [...new Set(masterKeys)] };
}
