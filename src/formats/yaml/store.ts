import type { Store } from '../store.js';

export const yamlStore: Store = {
  name: 'yaml',
  aliases: ['yml'],
  claimsName: (base) => base.endsWith('.yaml') || base.endsWith('.yml'),
  load: async () => (await import('../yaml.js')).yamlFormat,
  writeValue: async (node, indent) => Buffer.from((await import('../yaml.js')).formatYamlValue(node, indent)),
  holdsNestedTrees: true,
  singleValued: false,
  config: { key: 'yaml', indent: { tab: false } },
  newFileTemplate: '# New secrets file: replace these examples with your own.\n# Values are encrypted on save; keys stay readable.\ndatabase:\n    user: app\n    password: change-me\napi_token: change-me\n',
  // JSON is YAML too: tried last.
  detection: { rank: 4, mayHold: (text) => /^sops:/m.test(text) },
};
