/**
 * One-line reasons for KMS and STS failures: which key, what went wrong, in
 * the words a user can act on. Built from error names, codes and the ARNs in
 * AWS's own messages; never from request data, so no secret can leak in.
 */

import { joinLines } from '../../errors.js';

export interface FailureContext {
  /** `kms:Encrypt`, `kms:Decrypt` or `sts:AssumeRole`. */
  action: string;
  arn: string;
  region: string;
  timeoutMs: number;
  /** The shared-config profile in use, if any. */
  profile?: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const CREDENTIAL_REJECTIONS = new Set([
  'UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'MissingAuthenticationTokenException',
  'InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken', 'MissingAuthenticationToken',
]);
const MAX_DETAIL = 200;

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
}

export function describeFailure(error: unknown, at: FailureContext): string {
  const e = (error ?? {}) as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const service = at.action.startsWith('sts:') ? 'STS' : 'KMS';
  const network = networkCause(e);
  if (network) return `${service} unreachable for ${at.arn} (${network})`;
  if (name === 'TimeoutError' || e.code === 'ETIMEDOUT') return `${service} did not answer within ${at.timeoutMs} ms for ${at.arn}`;
  switch (name) {
    case 'AccessDeniedException':
    case 'AccessDenied': {
      const denied = /User: (\S+) is not authorized to perform: (\S+) on resource: (\S+)/.exec(e.message ?? '');
      return denied ? `${name}: ${denied[1]} may not ${denied[2]} ${denied[3]}` : `${name}: access denied to ${at.action} ${at.arn}`;
    }
    case 'DisabledException':
      return `key disabled: ${at.arn} (DisabledException)`;
    case 'KMSInvalidStateException':
      return `key not usable in its current state: ${at.arn} (KMSInvalidStateException)`;
    case 'InvalidCiphertextException':
      return `encryption context mismatch (or damaged ciphertext) for ${at.arn} (InvalidCiphertextException)`;
    case 'IncorrectKeyException':
      return `the ciphertext was not made with ${at.arn} (IncorrectKeyException)`;
    case 'NotFoundException':
      return `key not found: ${at.arn} in ${at.region} (NotFoundException)`;
    case 'CredentialsProviderError':
      return `no AWS credentials found for ${at.arn}${at.profile ? ` with profile ${at.profile}` : ''} (${detail(e.message)})`;
    case 'InvalidIdentityToken':
    case 'InvalidIdentityTokenException':
      return `STS rejected the web identity token, so no credentials for ${at.arn} (InvalidIdentityToken)`;
  }
  if (CREDENTIAL_REJECTIONS.has(name)) return `AWS rejected the credentials for ${at.action} ${at.arn} (${name})`;
  return `${at.action} ${at.arn} failed: ${name}${e.message ? `: ${detail(e.message)}` : ''}`;
}

/** `connect ECONNREFUSED 127.0.0.1:1234`, looking inside the AggregateError Node raises when every address fails. */
function networkCause(e: ErrorLike): string | undefined {
  if (e.code && NETWORK_CODES.has(e.code)) return detail(e.message || e.code);
  if (Array.isArray(e.errors)) {
    const causes = e.errors.map((x) => networkCause((x ?? {}) as ErrorLike)).filter((x): x is string => x !== undefined);
    if (causes.length) return [...new Set(causes)].join('; ');
  }
  return undefined;
}

function detail(message: string | undefined): string {
  const line = joinLines(message ?? '', ' ');
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line || 'no details';
}
