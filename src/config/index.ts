export { CONFIG_NAMES, findConfig, type FindConfigOptions } from './find.js';
export { keyGroupsForRule, type KeyFlagOptions } from './keys.js';
export { parseConfig } from './parse.js';
export {
  keysFromFlagsAndEnv,
  loadConfig,
  resolveEncryptSettings,
  type KeyFlagValues,
  type ResolvedSettings,
  type ResolveInput,
} from './resolve.js';
export { matchCreationRule, pathForMatching } from './rules.js';
export type {
  Config,
  ConfiguredKeys,
  CreationRule,
  DestinationRule,
  IndentSettings,
  KeyGroupConfig,
  StoreSettings,
} from './types.js';
