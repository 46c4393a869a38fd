import type { Store } from '../store.js';

export const jsonStore: Store = {
  name: 'json',
  aliases: [],
  claimsName: (base) => base.endsWith('.json'),
  load: async () => (await import('../json.js')).jsonFormat,
  writeValue: async (node, indent) => Buffer.from((await import('../json.js')).formatJsonValue(node, indent) + '\n'),
  holdsNestedTrees: true,
  singleValued: false,
  config: { key: 'json', indent: { tab: true } },
  newFileTemplate: '{\n\t"database": {\n\t\t"user": "app",\n\t\t"password": "change-me"\n\t},\n\t"api_token": "change-me"\n}\n',
  detection: { rank: 1, mayHold: (text) => /^(?:\xEF\xBB\xBF)?\s*\{/.test(text) },
};
