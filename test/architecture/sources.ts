import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** The project's source files, read with the TypeScript parser: comments and strings are told apart exactly. */

export const SRC = resolve(import.meta.dirname, '../../src');

export interface SourceFile {
  /** Path under src/, with `/` separators. */
  path: string;
  /** Relative imports (static, dynamic, re-exports), resolved to paths under src/. */
  imports: string[];
  /** String literals in expressions (not module specifiers, not types: those cannot branch), with their line numbers. */
  strings: { value: string; line: number }[];
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listTs(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

function read(file: string): SourceFile {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const specifiers = new Set<ts.Node>();
  const imports: string[] = [];
  const strings: SourceFile['strings'] = [];
  const addImport = (node: ts.Node | undefined): void => {
    if (!node || !ts.isStringLiteralLike(node)) return;
    specifiers.add(node);
    if (node.text.startsWith('.')) imports.push(relative(SRC, resolve(dirname(file), node.text.replace(/\.js$/, '.ts'))).split('\\').join('/'));
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) addImport(node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) addImport(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) addImport(node.argument.literal);
    if (ts.isLiteralTypeNode(node)) return;
    if (ts.isStringLiteralLike(node) && !specifiers.has(node)) strings.push({ value: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { path: relative(SRC, file).split('\\').join('/'), imports, strings };
}

let cache: SourceFile[] | undefined;

export function sourceFiles(): SourceFile[] {
  cache ??= listTs(SRC).sort().map(read);
  return cache;
}
