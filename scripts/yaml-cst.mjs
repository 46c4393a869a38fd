// What tsops's YAML store takes from the `yaml` package: its CST parser and
// scalar resolution, without the document model, schemas and stringifiers
// the package's index would load (and initialise) with them.
export * as CST from '../node_modules/yaml/browser/dist/parse/cst.js';
export { Parser } from '../node_modules/yaml/browser/dist/parse/parser.js';
