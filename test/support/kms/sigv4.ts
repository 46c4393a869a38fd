import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ApiError, type Caller, type ServerState } from './state.js';

/** The hash shape `@smithy/signature-v4` asks for, on node:crypto (HMAC when given a secret). */
export class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export interface SignedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Failure = 'missing' | 'unknownKey' | 'badSignature' | 'expired';

/** AWS's error codes for signature failures differ between the JSON (KMS) and Query (STS) services. */
export type SignedService = 'kms' | 'sts' | 's3';

const FAILURES: Record<SignedService, Record<Failure, [number, string]>> = {
  kms: {
    missing: [400, 'MissingAuthenticationTokenException'],
    unknownKey: [400, 'UnrecognizedClientException'],
    badSignature: [400, 'InvalidSignatureException'],
    expired: [400, 'ExpiredTokenException'],
  },
  sts: {
    missing: [403, 'MissingAuthenticationToken'],
    unknownKey: [403, 'InvalidClientTokenId'],
    badSignature: [403, 'SignatureDoesNotMatch'],
    expired: [403, 'ExpiredToken'],
  },
  s3: {
    missing: [403, 'AccessDenied'],
    unknownKey: [403, 'InvalidAccessKeyId'],
    badSignature: [403, 'SignatureDoesNotMatch'],
    expired: [400, 'ExpiredToken'],
  },
};

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/**
 * Recomputes the SigV4 signature of a request with the secret the server holds
 * for its access key id; returns who signed it and for which region.
 */
export async function verifySignature(state: ServerState, service: SignedService, request: SignedRequest, now = Date.now()): Promise<{ caller: Caller; region: string }> {
  const fail = (kind: Failure, message: string): never => {
    const [status, code] = FAILURES[service][kind];
    throw new ApiError(status, code, message);
  };
  const authorization = header(request.headers, 'authorization');
  if (!authorization) return fail('missing', 'Request is missing Authentication Token');
  const m = AUTHORIZATION.exec(authorization);
  if (!m) return fail('badSignature', 'Authorization header is not a SigV4 header');
  const [, accessKeyId, scopeDate, region, scopeService, signedHeaderList, signature] = m as unknown as string[];
  if (scopeService !== service) return fail('badSignature', `Credential should be scoped to correct service: '${service}'.`);

  const amzDate = header(request.headers, 'x-amz-date') ?? '';
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || amzDate.slice(0, 8) !== scopeDate) return fail('badSignature', 'X-Amz-Date is missing or does not match the credential scope');
  if (Math.abs(signingDate.getTime() - now) > MAX_CLOCK_SKEW_MS) return fail('badSignature', 'Signature expired: the request time is too far from the server time');

  const credentials = state.credentialsFor(accessKeyId!, now);
  if (credentials === 'expired') return fail('expired', 'The security token included in the request is expired');
  if (!credentials) return fail('unknownKey', 'The security token included in the request is invalid.');
  if (credentials.sessionToken !== undefined && header(request.headers, 'x-amz-security-token') !== credentials.sessionToken) {
    return fail('unknownKey', 'The security token included in the request is invalid.');
  }

  // The signer trusts a declared payload hash, so the body must really have it.
  const declaredHash = header(request.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(request.body).digest('hex')) {
    return fail('badSignature', 'The provided x-amz-content-sha256 header does not match what was computed.');
  }

  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host')) return fail('badSignature', 'The host header must be signed');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = header(request.headers, name) ?? '';
  const url = new URL(request.url, 'http://placeholder');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prior = query[k];
    query[k] = prior === undefined ? v : Array.isArray(prior) ? [...prior, v] : [prior, v];
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKeyId!, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
    region: region!,
    service,
    sha256: NodeSha256,
    applyChecksum: false,
    // S3 signs the path as sent; the other services encode it once more.
    uriEscapePath: service !== 's3',
  });
  const host = headers['host']!;
  const signed = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: host.replace(/:\d+$/, ''), path: url.pathname, query, headers, body: request.body },
    { signingDate, signingRegion: region!, signingService: service, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(String(signed.headers['authorization']));
  const matches = expected !== null && expected[1] === signedHeaderList && timingSafeEqual(Buffer.from(expected[2]!), Buffer.from(signature!));
  if (!matches) return fail('badSignature', 'The request signature we calculated does not match the signature you provided.');
  return { caller: credentials.caller, region: region! };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}
