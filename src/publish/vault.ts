/**
 * Vault KV (v1 and v2) over its plain HTTP API, for `publish`: the token from
 * VAULT_TOKEN or ~/.vault-token, the address from the rule or VAULT_ADDR,
 * VAULT_NAMESPACE as X-Vault-Namespace. Errors are one line and never carry
 * the secret's data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { vaultSecretPath, type Destination } from '../config/destinations.js';
import { TsopsError } from '../errors.js';

type VaultDestination = Extract<Destination, { kind: 'vault' }>;

const DEFAULT_ADDRESS = 'https://127.0.0.1:8200';
const TIMEOUT_MS = 30_000;

/** The server the rule names, else VAULT_ADDR, else Vault's own default. */
export function vaultAddress(d: VaultDestination, env: NodeJS.ProcessEnv): string {
  return (d.address || env['VAULT_ADDR'] || DEFAULT_ADDRESS).replace(/\/+$/, '');
}

function vaultToken(env: NodeJS.ProcessEnv): string {
  const fromEnv = env['VAULT_TOKEN']?.trim();
  if (fromEnv) return fromEnv;
  const home = env['HOME'] || env['USERPROFILE'];
  if (home) {
    try {
      return readFileSync(join(home, '.vault-token'), 'utf8').trim();
    } catch {
      // no token file: Vault answers 403 below, as it does for sops
    }
  }
  return '';
}

export interface VaultUploadResult {
  url: string;
  unchanged: boolean;
}

/**
 * Writes `json` (one object) as the secret for `fileName`: KV v1 takes it as the
 * secret, KV v2 inside `{"data": ...}`. As sops does, an existing secret with
 * the same data is left alone (no new version), and a failed read only warns.
 */
export async function uploadToVault(d: VaultDestination, fileName: string, json: string, env: NodeJS.ProcessEnv, warn: (line: string) => void): Promise<VaultUploadResult> {
  const path = vaultSecretPath(d, fileName);
  const url = `${vaultAddress(d, env)}/v1/${path.split('/').map(encodeURIComponent).join('/')}`;
  const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
  const token = vaultToken(env);
  if (token) headers['X-Vault-Token'] = token;
  if (env['VAULT_NAMESPACE']) headers['X-Vault-Namespace'] = env['VAULT_NAMESPACE'];

  const existing = await request('GET', url, headers).catch((e: Error) => ({ status: 0, body: e.message }));
  if (existing.status === 200) {
    const current = (parseObject(existing.body)?.['data'] as Record<string, unknown> | undefined)?.['data'];
    if (current !== undefined && isDeepStrictEqual(current, JSON.parse(json))) return { url, unchanged: true };
  } else if (existing.status !== 404) {
    warn(`cannot check if destination secret already exists in ${path} (${describe(existing)}); a new version will be created even if the data has not changed`);
  }
  const body = d.kvVersion === 1 ? json : `{"data":${json}}`;
  const written = await request('PUT', url, { ...headers, 'Content-Type': 'application/json' }, body).catch((e: Error) => {
    throw new TsopsError(`vault: PUT ${url}: ${e.message}`);
  });
  if (written.status < 200 || written.status > 299) throw new TsopsError(`vault: PUT ${url}: ${describe(written)}`);
  return { url, unchanged: false };
}

async function request(method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  let res: Response;
  try {
    res = await fetch(url, { method, headers, redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS), ...(body === undefined ? {} : { body }) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(cause?.code ?? cause?.message ?? (e as Error).message);
  }
  return { status: res.status, body: await res.text() };
}

/** `HTTP 403: permission denied`: Vault's `errors` list, else the status alone. */
function describe(res: { status: number; body: string }): string {
  if (res.status === 0) return res.body;
  const errors = parseObject(res.body)?.['errors'];
  const list = Array.isArray(errors) ? errors.filter((x): x is string => typeof x === 'string') : [];
  const text = list.join('; ').replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300);
  return `HTTP ${res.status}${text ? `: ${text}` : ''}`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
