/**
 * Wraps then unwraps one secret with the KMS key kind in a fresh process, for
 * tests of what reaches stderr. argv: key ARN, then `verbose` to pass a log.
 * stdout: `LOG <line>` per verbose line, then `OK <enc>`.
 */
import { createKmsKeyKind } from '../../../src/keys/kms/kind.js';

const [arn, mode] = process.argv.slice(2);
const log = mode === 'verbose' ? (line: string) => process.stdout.write(`LOG ${line}\n`) : undefined;
const kind = createKmsKeyKind(log ? { log } : {});
const record = await kind.wrap({ type: 'kms', arn: arn! }, new Uint8Array(32).fill(7));
const back = await kind.unwrap(record);
if (Buffer.from(back).equals(Buffer.alloc(32, 7))) process.stdout.write(`OK ${String(record.fields['enc'])}\n`);
else process.stdout.write('MISMATCH\n');
