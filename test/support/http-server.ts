import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server on a free port, with tight timeouts; `close` ends open connections too. */
export async function listenLoopback(handler: RequestListener): Promise<{ url: string; close(): Promise<void>; readonly connections: number }> {
  const server: Server = createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 2_000;
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** TCP connections accepted so far: a client that reuses its sockets opens few. */
    get connections() {
      return connections;
    },
    close() {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The whole request body; more than `limit` bytes rejects with `tooLarge()`. */
export function readBody(req: IncomingMessage, limit = 1 << 20, tooLarge: () => Error = () => new Error('request body too large')): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
