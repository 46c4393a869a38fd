/**
 * Where the audit log goes: sops's machine-wide /etc/sops/audit.yaml, or the
 * file TSOPS_AUDIT_CONFIG names. Never a file from a repository: whoever can
 * plant files in a clone must not be able to switch auditing off or send the
 * events elsewhere. The variable is the user's own choice, as is running a
 * different binary; it exists so the log can be tested without root.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export const SYSTEM_AUDIT_CONFIG = '/etc/sops/audit.yaml';
export const AUDIT_CONFIG_ENV = 'TSOPS_AUDIT_CONFIG';

export interface AuditConfig {
  path: string;
  /** `backends.postgres[].connection_string`, as sops reads them. */
  postgres: string[];
  /** `backends.file[].path`: JSON-lines files (tsops only; sops ignores the field). */
  files: string[];
}

export function auditConfigPath(env: NodeJS.ProcessEnv, cwd: string): string {
  const chosen = env[AUDIT_CONFIG_ENV];
  if (!chosen) return SYSTEM_AUDIT_CONFIG;
  return isAbsolute(chosen) ? chosen : resolve(cwd, chosen);
}

/** The config's text; undefined when there is none (the usual case, which loads no YAML parser). */
export function readAuditConfigText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new Error(`cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The config at `path`; undefined when there is none. Throws an Error with a one-line reason when it cannot be used. */
export async function readAuditConfig(path: string): Promise<AuditConfig | undefined> {
  const text = readAuditConfigText(path);
  if (text === undefined) return undefined;
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text, { uniqueKeys: true });
  // The message is the parser's, which quotes the line: it may hold a password.
  if (doc.errors.length) throw new Error(`${path} is not valid YAML (line ${doc.errors[0]!.linePos?.[0].line ?? '?'})`);
  const root: unknown = doc.toJS({ maxAliasCount: 50 });
  const backends = field(root, 'backends');
  return {
    path,
    postgres: entries(backends, 'postgres', 'connection_string', path),
    files: entries(backends, 'file', 'path', path),
  };
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
}

function entries(backends: unknown, kind: string, key: string, path: string): string[] {
  const list = field(backends, kind);
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new Error(`${path}: backends.${kind} must be a list`);
  return list.map((item, i) => {
    const value = field(item, key);
    if (typeof value !== 'string' || value === '') throw new Error(`${path}: backends.${kind}[${i}].${key} must be a non-empty string`);
    // A relative log path would follow the working directory into whatever repository a command runs in, links and all.
    if (kind === 'file' && !isAbsolute(value)) throw new Error(`${path}: backends.file[${i}].path must be an absolute path`);
    return value;
  });
}
