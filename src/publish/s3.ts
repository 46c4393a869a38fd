/**
 * S3 PutObject for `publish`, with the AWS SDK (loaded only here): credentials
 * from the standard chain, region from AWS_REGION / the profile, endpoint from
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL as the SDK reads them.
 */
import type { Destination } from '../config/destinations.js';
import { TsopsError } from '../errors.js';
import { quietly } from '../aws/quietly.js';

type S3Destination = Extract<Destination, { kind: 's3' }>;

export async function uploadToS3(d: S3Destination, fileName: string, contents: Uint8Array, env: NodeJS.ProcessEnv, log?: (line: string) => void): Promise<void> {
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const key = d.prefix + fileName;
  const where = `s3://${d.bucket}/${key}`;
  let client: InstanceType<typeof S3Client> | undefined;
  try {
    // A custom endpoint (a local S3-compatible server) is addressed by path, not by bucket host name.
    const custom = Boolean(env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL']);
    client = quietly(log, () => new S3Client({ maxAttempts: 3, requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 }, ...(custom ? { forcePathStyle: true } : {}) }));
    await client.send(new PutObjectCommand({ Bucket: d.bucket, Key: key, Body: contents }));
  } catch (e) {
    throw new TsopsError(`s3: PutObject ${where}: ${reason(e)}`);
  } finally {
    client?.destroy();
  }
}

function reason(e: unknown): string {
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const name = err.code ?? err.name ?? 'Error';
  const message = String(err.message ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300);
  return `${status ? `HTTP ${status} ` : ''}${name}${message && message !== name ? `: ${message}` : ''}`;
}
