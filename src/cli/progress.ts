/**
 * A progress line for commands over many files: redrawn in place with a
 * carriage return on a terminal, at most every `intervalMs`; nothing at all
 * when standard error is not a terminal, so logs and pipes get only the
 * summary. File names never appear in it (no escaping to get wrong, no
 * width to overflow).
 */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface Progress {
  /** One more file settled, `failed` or not. */
  tick(failed: boolean): void;
  /** Clears the line, so that what follows starts on a clean one. */
  done(): void;
}

const WIDTH = 24;

export function progressLine(stream: ProgressStream, label: string, total: number, options: { intervalMs?: number; now?: () => number } = {}): Progress {
  if (!stream.isTTY || total === 0) return { tick: () => undefined, done: () => undefined };
  const interval = options.intervalMs ?? 100;
  const now = options.now ?? Date.now;
  let settled = 0;
  let failed = 0;
  let drawnAt = -Infinity;
  let drawn = false;
  const draw = (): void => {
    const filled = Math.floor((settled / total) * WIDTH);
    stream.write(`\r${label} [${'#'.repeat(filled).padEnd(WIDTH, '.')}] ${settled}/${total}${failed ? `, ${failed} failed` : ''}`);
    drawn = true;
  };
  return {
    tick(hasFailed) {
      settled++;
      if (hasFailed) failed++;
      const t = now();
      if (settled === total || t - drawnAt >= interval) {
        drawnAt = t;
        draw();
      }
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
