/**
 * Multi-pattern search over bytes (Aho–Corasick), streaming: the automaton
 * keeps its state across chunks, so a pattern split over two writes of the
 * child is still found, and each byte is looked at once (linear in the
 * output, whatever the number of patterns). Bytes, not strings: output that
 * is not UTF-8 passes unchanged.
 */

/** The automaton for a fixed set of byte patterns; patterns must not contain a newline. */
export class PatternAutomaton {
  /** Trie edges: state to (byte to next state). */
  private edges: Map<number, number>[] = [new Map()];
  private fail: Int32Array = new Int32Array(1);
  /** Length of the longest pattern ending at each state (0: none), failure chain included. */
  private longest: Int32Array = new Int32Array(1);
  /** The root's moves as a table: most bytes of most output start no pattern. */
  private fromRoot: Int32Array = new Int32Array(256);
  readonly maxLength: number;

  constructor(patterns: readonly Uint8Array[]) {
    const ends: number[] = [0];
    let maxLength = 0;
    for (const pattern of patterns) {
      if (pattern.length === 0) continue;
      if (pattern.includes(0x0a)) throw new Error('a pattern must not contain a newline');
      let state = 0;
      for (const byte of pattern) {
        let next = this.edges[state]!.get(byte);
        if (next === undefined) {
          next = this.edges.length;
          this.edges.push(new Map());
          ends.push(0);
          this.edges[state]!.set(byte, next);
        }
        state = next;
      }
      ends[state] = Math.max(ends[state]!, pattern.length);
      maxLength = Math.max(maxLength, pattern.length);
    }
    this.maxLength = maxLength;
    for (const [byte, next] of this.edges[0]!) this.fromRoot[byte] = next;
    this.fail = new Int32Array(this.edges.length);
    this.longest = Int32Array.from(ends);
    // Breadth first, so a state's failure target is complete before its children need it.
    const queue: number[] = [];
    for (const child of this.edges[0]!.values()) queue.push(child);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const [byte, child] of this.edges[state]!) {
        let f = this.fail[state]!;
        while (f !== 0 && !this.edges[f]!.has(byte)) f = this.fail[f]!;
        const target = this.edges[f]!.get(byte);
        this.fail[child] = target !== undefined && target !== child ? target : 0;
        this.longest[child] = Math.max(this.longest[child]!, this.longest[this.fail[child]!]!);
        queue.push(child);
      }
    }
  }

  /** The state after reading `byte` in `state`. */
  step(state: number, byte: number): number {
    while (state !== 0) {
      const next = this.edges[state]!.get(byte);
      if (next !== undefined) return next;
      state = this.fail[state]!;
    }
    return this.fromRoot[byte]!;
  }

  /** Length of the longest pattern that ends on reaching `state` (0 for none). */
  matchLength(state: number): number {
    return this.longest[state]!;
  }

  /** Forgets the patterns (they are secrets). */
  dispose(): void {
    for (const edges of this.edges) edges.clear();
    this.edges = [new Map()];
    this.fail.fill(0);
    this.longest.fill(0);
    this.fromRoot.fill(0);
  }
}

export const REDACTED = Buffer.from('[redacted]');

/** A partial line longer than this is let out (all but what a pattern could still need). */
export const LONG_LINE = 64 * 1024;

/**
 * One output stream filtered line by line: a line leaves as soon as its
 * newline has been read; a partial line leaves when the stream ends or it
 * grows past {@link LONG_LINE}. Every stretch of bytes covered by a pattern
 * becomes one `[redacted]`; everything else is passed through byte for byte.
 */
export class StreamRedactor {
  private state = 0;
  /** Bytes read but not yet let out, starting at absolute offset `emitted`. */
  private held: Buffer[] = [];
  private heldLength = 0;
  private emitted = 0;
  private scanned = 0;
  /** Disjoint, sorted [start, end) absolute ranges to hide, not yet let out. */
  private ranges: Array<[number, number]> = [];
  private readonly longLine: number;

  constructor(private readonly automaton: PatternAutomaton, options: { longLine?: number } = {}) {
    this.longLine = Math.max(options.longLine ?? LONG_LINE, 2 * automaton.maxLength);
  }

  /** Reads a chunk; returns what may be let out now (possibly empty). */
  push(chunk: Uint8Array): Buffer {
    let lastNewline = -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      this.state = this.automaton.step(this.state, byte);
      const length = this.automaton.matchLength(this.state);
      if (length > 0) this.hide(this.scanned + i + 1 - length, this.scanned + i + 1);
      if (byte === 0x0a) lastNewline = this.scanned + i + 1;
    }
    this.scanned += chunk.length;
    if (chunk.length > 0) {
      this.held.push(Buffer.from(chunk));
      this.heldLength += chunk.length;
    }
    // No pattern holds a newline, so nothing before one can still be part of a match.
    if (lastNewline >= 0) return this.release(lastNewline);
    if (this.heldLength > this.longLine) return this.release(this.scanned - Math.max(0, this.automaton.maxLength - 1));
    return Buffer.alloc(0);
  }

  /** The stream ended: everything still held. */
  end(): Buffer {
    const out = this.release(this.scanned);
    this.state = 0;
    return out;
  }

  private hide(start: number, end: number): void {
    // What already left was either shown (no future match reaches it) or hidden already.
    start = Math.max(start, this.emitted);
    if (start >= end) return;
    while (this.ranges.length > 0 && this.ranges[this.ranges.length - 1]![1] >= start) {
      const last = this.ranges.pop()!;
      start = Math.min(start, last[0]);
      end = Math.max(end, last[1]);
    }
    this.ranges.push([start, end]);
  }

  /** Lets out the bytes before `upTo` (absolute), stretched to the end of a range it cuts. */
  private release(upTo: number): Buffer {
    if (upTo <= this.emitted) return Buffer.alloc(0);
    for (const [start, end] of this.ranges) if (start < upTo && end > upTo) upTo = end;
    const all = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldLength);
    const parts: Buffer[] = [];
    let at = this.emitted;
    let rangeCount = 0;
    for (const [start, end] of this.ranges) {
      if (start >= upTo) break;
      if (start > at) parts.push(all.subarray(at - this.emitted, start - this.emitted));
      parts.push(REDACTED);
      at = end;
      rangeCount++;
    }
    if (upTo > at) parts.push(all.subarray(at - this.emitted, upTo - this.emitted));
    this.ranges.splice(0, rangeCount);
    const out = Buffer.concat(parts);
    // The copy that stays is fresh; the old one held secrets and is wiped.
    const rest = Buffer.from(all.subarray(upTo - this.emitted));
    all.fill(0);
    for (const b of this.held) b.fill(0);
    this.held = rest.length > 0 ? [rest] : [];
    this.heldLength = rest.length;
    this.emitted = upTo;
    return out;
  }
}
