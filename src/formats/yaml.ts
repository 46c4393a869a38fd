import { EmitError } from '../errors.js';
import type { Node, ParsedFile } from '../tree.js';
import type { Format } from './format.js';
import { canonicalValue, emitCanonical } from './yaml/canonical.js';
import { parseYaml } from './yaml/parse.js';
import { emitWithLayout, isYamlLayout } from './yaml/splice.js';

/**
 * YAML (docs/format.md#yaml). Parsing keeps the source; emitting rewrites only what the
 * document layer changed, so comments, blank lines, indentation, key order and
 * untouched values survive byte for byte. A tree without a layout of its own is
 * written in go-yaml's style, as sops writes it.
 */
export const yamlFormat: Format = {
  name: 'yaml',
  parse: (input, options) => parseYaml(input, options?.file),
  emit(file: ParsedFile, options) {
    const indent = storeIndent(options?.indent);
    const layout = file.format === 'yaml' && isYamlLayout(file.layout) ? file.layout : undefined;
    const text = (layout && emitWithLayout(file, layout, indent ?? layout.step)) ?? emitCanonical(file, indent ?? 4);
    return Buffer.from(text, 'utf8');
  },
};

/** go-yaml's rules for the indent setting: 0 is the default, negative is an error, outside 2..9 becomes 2. */
function storeIndent(indent: number | undefined): number | undefined {
  if (indent === undefined || indent === 0) return undefined;
  if (!Number.isInteger(indent) || indent < 0) throw new EmitError(`invalid YAML indent ${indent}`);
  return indent < 2 || indent > 9 ? 2 : indent;
}

/** One value (map, list or scalar) as standalone YAML text ending in "\n" (for `--extract`). */
export function formatYamlValue(node: Node, indent?: number): string {
  return canonicalValue(node, storeIndent(indent) ?? 4);
}
