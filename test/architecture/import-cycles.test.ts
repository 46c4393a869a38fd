/**
 * The top-level parts of src/ (each folder, and each file directly in src/)
 * depend on each other one way only: an import cycle between two parts means
 * neither can be understood, tested or loaded without the other. Type-only
 * imports count too: they tie the parts' meanings together just the same.
 */
import { describe, expect, it } from 'vitest';
import { sourceFiles } from './sources.js';

function part(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? path.replace(/\.ts$/, '') : path.slice(0, slash);
}

/** part -> part it imports -> one `file -> file` import that makes the edge. */
function partGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles()) {
    const from = part(file.path);
    for (const target of file.imports) {
      const to = part(target);
      if (to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      graph.set(from, edges);
      if (!edges.has(to)) edges.set(to, `${file.path} -> ${target}`);
    }
  }
  return graph;
}

/** The parts that lie on a cycle together (strongly connected components of more than one part), each sorted. */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** None: the folders of src/ import one way (docs/architecture.md draws the layers). */
const KNOWN_CYCLES: string[][] = [];

describe('import cycles between the top-level parts of src/', () => {
  it('there are none', () => {
    const graph = partGraph();
    const found = cycles(graph);
    const report = found.map((parts) => {
      const edges = parts.flatMap((from) => parts.filter((to) => graph.get(from)?.has(to)).map((to) => `    ${from} -> ${to} (${graph.get(from)!.get(to)})`));
      return `  ${parts.join(' ⇄ ')}\n${edges.join('\n')}`;
    });
    console.log(`import cycles between top-level parts of src/ (${found.length}):${report.map((r) => `\n${r}`).join('')}`);
    expect(found).toEqual(KNOWN_CYCLES);
  });
});
