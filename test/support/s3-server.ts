/**
 * A loopback S3 for tests: PutObject (path-style `PUT /BUCKET/KEY`) with every
 * request's SigV4 signature checked by the same verifier as the KMS server;
 * errors in S3's XML shape. The real AWS SDK talks to it via AWS_ENDPOINT_URL_S3.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLoopback, readBody } from './http-server.js';
import { verifySignature } from './kms/sigv4.js';
import { ApiError, ServerState, type UserConfig } from './kms/state.js';

export interface S3Request {
  method: string;
  bucket: string;
  key: string;
  status: number;
  code?: string;
}

export interface S3Server {
  url: string;
  readonly requests: S3Request[];
  object(bucket: string, key: string): Buffer | undefined;
  /** The endpoint, region and credentials of the first user, as the SDK reads them from the environment. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export interface S3ServerConfig {
  users: UserConfig[];
  buckets: string[];
  /** Buckets whose writes every caller is denied (AccessDenied). */
  readOnly?: string[];
}

export async function startS3Server(config: S3ServerConfig): Promise<S3Server> {
  const state = new ServerState({ users: config.users });
  const objects = new Map<string, Buffer>();
  const requests: S3Request[] = [];
  const server = await listenLoopback((req, res) => void serve(req, res));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://s3');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const record: S3Request = { method: req.method ?? '', bucket: decodeURIComponent(bucket), key: rest.map(decodeURIComponent).join('/'), status: 0 };
    try {
      const body = await readBody(req, 8 << 20);
      await verifySignature(state, 's3', { method: record.method, url: req.url ?? '/', headers: req.headers, body });
      if (req.method !== 'PUT' || !record.key || [...url.searchParams.keys()].some((k) => k !== 'x-id')) throw new ApiError(405, 'MethodNotAllowed', 'only PutObject is served');
      if (!config.buckets.includes(record.bucket)) throw new ApiError(404, 'NoSuchBucket', 'The specified bucket does not exist');
      if (config.readOnly?.includes(record.bucket)) throw new ApiError(403, 'AccessDenied', 'Access Denied');
      const md5 = req.headers['content-md5'];
      if (typeof md5 === 'string' && md5 !== createHash('md5').update(body).digest('base64')) throw new ApiError(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
      objects.set(`${record.bucket}/${record.key}`, body);
      record.status = 200;
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"`, 'content-length': 0 }).end();
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(500, 'InternalError', 'We encountered an internal error. Please try again.');
      record.status = error.status;
      record.code = error.code;
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${error.message}</Message><RequestId>test</RequestId></Error>`;
      if (!res.headersSent) res.writeHead(error.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) }).end(xml);
    } finally {
      requests.push(record);
    }
  }

  return {
    url: server.url,
    requests,
    object: (bucket, key) => objects.get(`${bucket}/${key}`),
    env() {
      const user = config.users[0]!;
      return { AWS_ENDPOINT_URL_S3: server.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey };
    },
    close: () => server.close(),
  };
}
