/**
 * `--redact`: the child's stdout and stderr come through tsops, which hides
 * every secret value (and its encodings) before passing them on. Each stream
 * keeps its own order; a line leaves as soon as it is complete.
 */
import type { Readable } from 'node:stream';
import { TsopsError } from '../errors.js';
import type { Node } from '../tree.js';
import { valueToString } from '../values.js';
import { MIN_REDACTED_LENGTH, tooWeakToRedact, valuePatterns } from './encodings.js';
import { PatternAutomaton, StreamRedactor } from './matcher.js';

/**
 * The most pattern bytes (all values in all their encodings) the automaton
 * is built for: about 200 bytes of memory each. Secrets are rarely that
 * large; a whole binary file given to exec-file may be, and is refused
 * before the command starts rather than shown unfiltered.
 */
export const MAX_PATTERN_BYTES = 1024 * 1024;

export interface OutputTargets {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface Redaction {
  /** Relays a child's output streams through the filter; resolves when both have ended. */
  relay(stdout: Readable, stderr: Readable): Promise<void>;
  /** Forgets the patterns once the child is done. */
  dispose(): void;
}

/**
 * The filter for a set of named values. Values too short or too common to
 * hide are named once in `warn` (the names, never the values).
 */
export function prepareRedaction(values: Iterable<readonly [name: string, value: string | Uint8Array]>, targets: OutputTargets, warn: (message: string) => void): Redaction {
  const patterns: Buffer[] = [];
  const weak: string[] = [];
  for (const [name, value] of values) {
    if (typeof value === 'string' ? value === '' : value.length === 0) continue;
    if (tooWeakToRedact(value)) weak.push(name);
    else patterns.push(...valuePatterns(value));
  }
  const size = patterns.reduce((n, p) => n + p.length, 0);
  if (size > MAX_PATTERN_BYTES) {
    for (const p of patterns) p.fill(0);
    throw new TsopsError(`--redact: the decrypted values are too large to look for in the output (${Math.ceil(size / 1024)} KiB with their encodings, at most ${MAX_PATTERN_BYTES / 1024} KiB)`, 'failed');
  }
  if (weak.length > 0) {
    const shown = weak.slice(0, 10).join(', ') + (weak.length > 10 ? `, and ${weak.length - 10} more` : '');
    warn(`--redact does not hide values shorter than ${MIN_REDACTED_LENGTH} bytes or true/false/null: ${shown}`);
  }
  const automaton = new PatternAutomaton(patterns);
  for (const p of patterns) p.fill(0);
  return {
    relay: (stdout, stderr) =>
      Promise.all([relayStream(stdout, targets.stdout, new StreamRedactor(automaton)), relayStream(stderr, targets.stderr, new StreamRedactor(automaton))]).then(() => undefined),
    dispose: () => automaton.dispose(),
  };
}

/** Every leaf value of decrypted documents, named by its path, for {@link prepareRedaction}. */
export function documentValues(documents: readonly Node[]): Array<[string, string | Uint8Array]> {
  const out: Array<[string, string | Uint8Array]> = [];
  const walk = (node: Node, path: string): void => {
    if (node.kind === 'scalar') {
      if (node.type === 'null' || node.type === 'bool') return;
      out.push([path, node.value instanceof Uint8Array ? node.value : valueToString(node)]);
    } else if (node.kind === 'map') {
      for (const item of node.items) if (item.kind === 'entry') walk(item.value, path === '' ? item.key : `${path}.${item.key}`);
    } else {
      let index = 0;
      for (const item of node.items) if (item.kind !== 'comment') walk(item, `${path}[${index++}]`);
    }
  };
  documents.forEach((document) => walk(document, ''));
  return out;
}

/** Copies one stream through a redactor, with back-pressure; a closed reader stops the copy (the child then sees a broken pipe). */
function relayStream(source: Readable, target: NodeJS.WritableStream, redactor: StreamRedactor): Promise<void> {
  return new Promise((resolve) => {
    let broken = false;
    let waiting = false;
    const finish = (): void => {
      target.off('error', onTargetError);
      resolve();
    };
    const onTargetError = (): void => {
      broken = true;
      source.destroy();
      finish();
    };
    target.on('error', onTargetError);
    const write = (bytes: Buffer): void => {
      if (broken || bytes.length === 0) return;
      if (!target.write(bytes) && !waiting) {
        waiting = true;
        source.pause();
        target.once('drain', () => {
          waiting = false;
          source.resume();
        });
      }
    };
    source.on('data', (chunk: Buffer) => {
      write(redactor.push(chunk));
      chunk.fill(0);
    });
    source.once('end', () => {
      write(redactor.end());
      finish();
    });
    source.once('error', () => {
      write(redactor.end());
      finish();
    });
    // Destroyed when tsops stops waiting for a background process's output.
    source.once('close', () => {
      write(redactor.end());
      finish();
    });
  });
}
