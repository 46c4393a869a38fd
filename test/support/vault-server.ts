/**
 * A loopback HashiCorp Vault for tests, speaking the KV secrets engine's HTTP
 * API (v1 and v2) as Vault does: `X-Vault-Token` checked on every request
 * (403 `{"errors":["permission denied"]}` otherwise), KV v2 under
 * `/v1/MOUNT/data/PATH` with its `{"data": ...}` wrapper and versions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLoopback, readBody } from './http-server.js';

export interface VaultRequest {
  method: string;
  path: string;
  namespace?: string;
  status: number;
}

export interface VaultServer {
  url: string;
  readonly requests: VaultRequest[];
  /** KV v2: the latest version's data; KV v1: the secret. Undefined when absent. */
  secret(mount: string, path: string): Record<string, unknown> | undefined;
  /** KV v2 only: how many versions were written. */
  versions(mount: string, path: string): number;
  close(): Promise<void>;
}

export interface VaultServerConfig {
  token: string;
  /** Mount name (no slashes) to KV version. */
  mounts: Record<string, 1 | 2>;
  /** When set, requests must carry this X-Vault-Namespace. */
  namespace?: string;
}

export async function startVaultServer(config: VaultServerConfig): Promise<VaultServer> {
  const store = new Map<string, Record<string, unknown>[]>();
  const requests: VaultRequest[] = [];
  const server = await listenLoopback((req, res) => void serve(req, res));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault');
    const record: VaultRequest = { method: req.method ?? '', path: decodeURIComponent(url.pathname), status: 0 };
    const ns = req.headers['x-vault-namespace'];
    if (typeof ns === 'string') record.namespace = ns;
    const reply = (status: number, body?: unknown): void => {
      record.status = status;
      requests.push(record);
      if (body === undefined) {
        res.writeHead(status).end();
        return;
      }
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      return reply(413, { errors: ['request too large'] });
    }
    if (req.headers['x-vault-token'] !== config.token) return reply(403, { errors: ['permission denied'] });
    if (config.namespace !== undefined && ns !== config.namespace) return reply(403, { errors: ['permission denied'] });
    const m = /^\/v1\/([^/]+)\/(.+)$/.exec(record.path);
    const version = m ? config.mounts[m[1]!] : undefined;
    if (!m || version === undefined) return reply(404, { errors: [`no handler for route "${record.path.slice(4)}". route entry not found.`] });
    const mount = m[1]!;
    let rest = m[2]!;
    if (version === 2) {
      if (!rest.startsWith('data/')) return reply(404, { errors: [] });
      rest = rest.slice('data/'.length);
    }
    const key = `${mount}\u0000${rest}`;
    if (req.method === 'GET') {
      const versions = store.get(key);
      if (!versions?.length) return reply(404, { errors: [] });
      const data = versions[versions.length - 1]!;
      return reply(200, version === 1 ? { data } : { data: { data, metadata: { version: versions.length, destroyed: false } } });
    }
    if (req.method !== 'PUT' && req.method !== 'POST') return reply(405, { errors: ['unsupported operation'] });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return reply(400, { errors: ['failed to parse JSON input'] });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return reply(400, { errors: ['failed to parse JSON input'] });
    let data = parsed as Record<string, unknown>;
    if (version === 2) {
      const inner = data['data'];
      if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return reply(400, { errors: ['no data provided'] });
      data = inner as Record<string, unknown>;
    }
    const versions = store.get(key) ?? [];
    versions.push(data);
    store.set(key, versions);
    return version === 1 ? reply(204) : reply(200, { data: { version: versions.length, destroyed: false } });
  }

  const latest = (mount: string, path: string) => {
    const v = store.get(`${mount}\u0000${path}`);
    return v?.[v.length - 1];
  };
  return {
    url: server.url,
    requests,
    secret: latest,
    versions: (mount, path) => store.get(`${mount}\u0000${path}`)?.length ?? 0,
    close: () => server.close(),
  };
}
