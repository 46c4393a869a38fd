export { CONFIG_NAMES, findConfig, type FindConfigOptions } from './find.js';
export { keyGroupsForRule } from './keys.js';
export { kmsFromString, parseConfig } from './parse.js';
export {
  keysFromFlagsAndEnv,
  loadConfig,
  parseEncryptionContext,
  resolveEncryptSettings,
  type KeyFlagValues,
  type ResolvedSettings,
  type ResolveInput,
} from './resolve.js';
export { matchCreationRule, pathForMatching } from './rules.js';
export type {
  AzureKeyConfig,
  Config,
  CreationRule,
  DestinationRule,
  IndentSettings,
  KeyGroupConfig,
  KmsKeyConfig,
  StoreSettings,
} from './types.js';
