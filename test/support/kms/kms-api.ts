import { randomBytes } from 'node:crypto';
import { BadCiphertext, blobKeyArn, open, seal } from './ciphertext.js';
import { ApiError, type Caller, type KmsAction, type RequestRecord, type ServerKey, type ServerState } from './state.js';

/** KMS's JSON 1.1 protocol: `X-Amz-Target: TrentService.<Operation>`, JSON in and out, blobs as base64. */
export function handleKms(state: ServerState, target: string, input: Record<string, unknown>, caller: Caller, region: string, record: RequestRecord): unknown {
  const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : target;
  record.operation = operation;
  switch (operation) {
    case 'Encrypt': {
      const key = usableKey(state, caller, region, requiredString(input, 'KeyId'), 'Encrypt', record);
      const context = encryptionContext(input, record);
      const plaintext = blob(input, 'Plaintext');
      if (plaintext.length < 1 || plaintext.length > 4096) throw validation('Plaintext must be 1 to 4096 bytes');
      return { CiphertextBlob: seal(key.arn, key.material, plaintext, context).toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    }
    case 'GenerateDataKey': {
      const key = usableKey(state, caller, region, requiredString(input, 'KeyId'), 'GenerateDataKey', record);
      const context = encryptionContext(input, record);
      const size = dataKeySize(input);
      const plaintext = randomBytes(size);
      return { CiphertextBlob: seal(key.arn, key.material, plaintext, context).toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: key.arn };
    }
    case 'Decrypt': {
      const ciphertext = blob(input, 'CiphertextBlob');
      let blobArn: string;
      try {
        blobArn = blobKeyArn(ciphertext);
      } catch {
        throw invalidCiphertext();
      }
      const requested = optionalString(input, 'KeyId');
      const key = usableKey(state, caller, region, requested ?? blobArn, 'Decrypt', record);
      if (key.arn !== blobArn) throw new ApiError(400, 'IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
      const context = encryptionContext(input, record);
      try {
        return { Plaintext: open(ciphertext, key.material, context).toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } catch (e) {
        if (e instanceof BadCiphertext) throw invalidCiphertext();
        throw e;
      }
    }
    case 'DescribeKey': {
      const key = findKey(state, region, requiredString(input, 'KeyId'), record);
      authorize(state, caller, key, 'DescribeKey');
      return {
        KeyMetadata: {
          AWSAccountId: key.account,
          KeyId: key.id,
          Arn: key.arn,
          CreationDate: key.createdAt.getTime() / 1000,
          Enabled: key.enabled,
          KeyState: key.enabled ? 'Enabled' : 'Disabled',
          KeyUsage: 'ENCRYPT_DECRYPT',
          KeySpec: 'SYMMETRIC_DEFAULT',
          CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
          EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
          KeyManager: 'CUSTOMER',
          Origin: 'AWS_KMS',
          MultiRegion: false,
          Description: '',
        },
      };
    }
    default:
      throw new ApiError(400, 'UnknownOperationException', `operation ${operation} is not supported by this server`);
  }
}

function findKey(state: ServerState, region: string, keyId: string, record: RequestRecord): ServerKey {
  const key = state.findKey(keyId, region);
  // Keys are regional: a key asked for at another region's endpoint does not exist there.
  if (!key || key.region !== region) throw new ApiError(400, 'NotFoundException', `Key '${keyId}' does not exist`);
  record.keyArn = key.arn;
  return key;
}

function usableKey(state: ServerState, caller: Caller, region: string, keyId: string, action: KmsAction, record: RequestRecord): ServerKey {
  const key = findKey(state, region, keyId, record);
  authorize(state, caller, key, action);
  if (!key.enabled) throw new ApiError(400, 'DisabledException', `${key.arn} is disabled.`);
  return key;
}

function authorize(state: ServerState, caller: Caller, key: ServerKey, action: KmsAction): void {
  if (state.isAllowed(caller, key, action)) return;
  throw new ApiError(400, 'AccessDeniedException', `User: ${caller.arn} is not authorized to perform: kms:${action} on resource: ${key.arn} because no resource-based policy allows the kms:${action} action`);
}

function encryptionContext(input: Record<string, unknown>, record: RequestRecord): Record<string, string> | undefined {
  const context = input['EncryptionContext'];
  if (context === undefined || context === null) return undefined;
  if (typeof context !== 'object' || Array.isArray(context) || Object.values(context).some((v) => typeof v !== 'string')) {
    throw validation('EncryptionContext must be a map of strings');
  }
  record.encryptionContext = { ...(context as Record<string, string>) };
  return context as Record<string, string>;
}

function dataKeySize(input: Record<string, unknown>): number {
  const spec = input['KeySpec'];
  const bytes = input['NumberOfBytes'];
  if (spec !== undefined && bytes !== undefined) throw validation('KeySpec and NumberOfBytes are exclusive');
  if (spec === 'AES_256') return 32;
  if (spec === 'AES_128') return 16;
  if (typeof bytes === 'number' && Number.isInteger(bytes) && bytes >= 1 && bytes <= 1024) return bytes;
  throw validation('KeySpec or NumberOfBytes is required');
}

function requiredString(input: Record<string, unknown>, name: string): string {
  const v = optionalString(input, name);
  if (v === undefined || v === '') throw validation(`${name} is required`);
  return v;
}

function optionalString(input: Record<string, unknown>, name: string): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw validation(`${name} must be a string`);
  return v;
}

function blob(input: Record<string, unknown>, name: string): Buffer {
  const v = requiredString(input, name);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new ApiError(400, 'SerializationException', `${name} is not base64`);
  return Buffer.from(v, 'base64');
}

function validation(message: string): ApiError {
  return new ApiError(400, 'ValidationException', message);
}

function invalidCiphertext(): ApiError {
  return new ApiError(400, 'InvalidCiphertextException', '');
}
