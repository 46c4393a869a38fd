import { EmitError } from '../errors.js';
import type { Node, ParsedFile } from '../tree.js';
import type { Format } from './format.js';
import { emitCanonical, emitCanonicalList, emitCanonicalMap, emitWithLayout } from './yaml/emit.js';
import { parseYaml, type YamlLayout } from './yaml/parse.js';
import { renderScalar } from './yaml/render.js';

/**
 * YAML (spec §7.1). Parsing keeps the source; emitting rewrites only what the
 * document layer changed, so comments, blank lines, indentation, key order and
 * untouched values survive byte for byte. A tree without a layout of its own is
 * written in go-yaml's style, as sops writes it.
 */
export const yamlFormat: Format = {
  name: 'yaml',
  parse: (input, options) => parseYaml(input, options?.file),
  emit(file: ParsedFile, options) {
    const indent = options?.indent && options.indent > 0 ? options.indent : 4;
    if (options?.indent !== undefined && options.indent < 0) throw new EmitError(`invalid YAML indent ${options.indent}`);
    const layout = file.format === 'yaml' ? (file.layout as YamlLayout | undefined) : undefined;
    const text = (layout && emitWithLayout(file, layout)) ?? emitCanonical(file, indent);
    return Buffer.from(text, 'utf8');
  },
};

/** One value as standalone YAML text (for `--extract`). */
export function formatYamlValue(node: Node, indent = 4): string {
  const lines: string[] = [];
  if (node.kind === 'scalar') return renderScalar(node, { indent: 0, step: indent, inFlow: false }).text + '\n';
  if (node.kind === 'map') emitCanonicalMap(node, 0, indent, lines);
  else emitCanonicalList(node, 0, indent, lines);
  return lines.join('\n') + '\n';
}
