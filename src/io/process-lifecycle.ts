/**
 * The one owner of process-wide signal and exit handling. Other modules
 * register what they need for as long as they need it (a cleanup, a child
 * to pass signals to) and get back the function that unregisters it; only
 * this module adds or removes listeners on `process`.
 *
 * A terminating signal is handled in the order {@link onTerminatingSignal}
 * spells out: pass it to children, stop there if a child now decides how
 * tsops ends, else remove what must not outlive tsops and end by the same
 * signal, so whoever started tsops sees the usual status.
 */
import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';

/**
 * The signals that end a process unless caught, and that Node lets a program
 * catch (SIGSEGV, SIGBUS, SIGFPE, SIGILL are Node's own; SIGKILL and SIGSTOP
 * cannot be caught), limited to those this platform has.
 */
export const TERMINATING_SIGNALS: readonly NodeJS.Signals[] =
  process.platform === 'win32'
    ? ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']
    : (
        ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTRAP', 'SIGABRT', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGPOLL', 'SIGPWR', 'SIGSYS', 'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ'] as NodeJS.Signals[]
      ).filter((s) => s in osConstants.signals);

/**
 * Signals tsops passes on to a command it runs for the user instead of dying
 * from them. A signal typed at the terminal (Ctrl-C) reaches the command
 * twice, from the terminal and from tsops, as with other wrappers that
 * forward; programs that count Ctrl-C presses may notice.
 */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** How long a re-raised signal that the platform keeps ignoring gets before tsops exits with the shell's status for it. */
const IGNORED_SIGNAL_GRACE_MS = 200;

type Unregister = () => void;

/** Removal of what must not outlive the process (private directories). */
const cleanups = new Set<() => void>();
/** The cleanups that also need every terminating signal caught while they are registered. */
const signalCleanups = new Set<() => void>();
/** Commands run for the user: they get {@link FORWARDED_SIGNALS} and their end decides tsops's. */
const relays = new Set<(signal: NodeJS.Signals) => void>();
/** Interactive children (the editor): Ctrl+C is theirs; any other terminating signal ends them before tsops. */
const foreground = new Set<ChildProcess>();

let exitHooked = false;
const hookedSignals = new Set<NodeJS.Signals>();

/**
 * Runs `cleanup` when the process exits, and before it ends by a signal that
 * tsops handles. With `catchSignals`, every terminating signal is handled
 * while it is registered (a plaintext directory an editor uses); without,
 * signals keep their usual effect (a FIFO server needs EPIPE, not SIGPIPE).
 */
export function registerCleanup(cleanup: () => void, options: { catchSignals?: boolean } = {}): Unregister {
  cleanups.add(cleanup);
  if (options.catchSignals) signalCleanups.add(cleanup);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', runCleanups);
  }
  updateSignalHooks();
  return () => {
    cleanups.delete(cleanup);
    signalCleanups.delete(cleanup);
    updateSignalHooks();
  };
}

/**
 * While registered, {@link FORWARDED_SIGNALS} go to `relay` and tsops keeps
 * running: the command it runs decides how it ends. A relay that does nothing
 * holds those signals back while a command is being prepared.
 */
export function relaySignals(relay: (signal: NodeJS.Signals) => void): Unregister {
  relays.add(relay);
  updateSignalHooks();
  return () => {
    relays.delete(relay);
    updateSignalHooks();
  };
}

/**
 * While registered, Ctrl+C belongs to `child` (the terminal sends SIGINT to
 * both; tsops ignores it), and any other terminating signal ends `child` too
 * (SIGHUP as it is, the rest as SIGTERM, which editors obey) before tsops
 * cleans up and ends.
 */
export function registerForegroundChild(child: ChildProcess): Unregister {
  foreground.add(child);
  updateSignalHooks();
  return () => {
    foreground.delete(child);
    updateSignalHooks();
  };
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  // 1. A command run for the user gets the signal and decides how tsops ends.
  if (relays.size > 0 && FORWARDED_SIGNALS.includes(signal)) {
    for (const relay of relays) relay(signal);
    return;
  }
  // 2. Ctrl+C is the editor's.
  if (signal === 'SIGINT' && foreground.size > 0) return;
  // 3. The editor ends before its file goes, so it does not outlive tsops holding plaintext.
  for (const child of foreground) child.kill(signal === 'SIGHUP' ? signal : 'SIGTERM');
  // 4. What must not outlive tsops goes.
  runCleanups();
  // 5. tsops ends by the same signal. Signals Node ignores from the start
  //    (SIGPIPE, SIGXFSZ) may stay ignored: then it exits with the shell's status for that signal.
  for (const s of [...hookedSignals]) unhook(s);
  const status = reraise(signal);
  setTimeout(() => process.exit(status), IGNORED_SIGNAL_GRACE_MS);
}

function runCleanups(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    signalCleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // One that fails must not keep the others from running, nor print a stack trace on the way out.
    }
  }
}

/** The signals handled now: none unless something registered needs them, so a closed pipe is EPIPE again once they are gone. */
function wantedSignals(): Set<NodeJS.Signals> {
  if (signalCleanups.size > 0 || foreground.size > 0) return new Set(TERMINATING_SIGNALS);
  return new Set(relays.size > 0 ? FORWARDED_SIGNALS : []);
}

function updateSignalHooks(): void {
  const wanted = wantedSignals();
  for (const s of wanted) {
    if (hookedSignals.has(s)) continue;
    hookedSignals.add(s);
    process.on(s, onTerminatingSignal);
  }
  for (const s of [...hookedSignals]) if (!wanted.has(s)) unhook(s);
}

function unhook(signal: NodeJS.Signals): void {
  hookedSignals.delete(signal);
  process.off(signal, onTerminatingSignal);
}

/** The shell's status for a process ended by `signal`: 128 + its number. */
export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

/**
 * Ends this process with `signal` (the one that ended a child, or the one
 * tsops received), so whoever started tsops sees the status a bare command
 * gives. Every listener for it goes and its default action is restored first
 * (Node ignores SIGPIPE and keeps SIGUSR1 for the inspector). Returns 128+n
 * for the rare signal whose default is not to terminate; the caller exits with that.
 */
export function reraise(signal: NodeJS.Signals): number {
  process.removeAllListeners(signal);
  const noop = (): void => {};
  try {
    // Adding and removing a listener leaves the signal at its default disposition.
    process.on(signal, noop);
    process.off(signal, noop);
  } catch {
    // SIGKILL and SIGSTOP take no listener; their default cannot change anyway.
  }
  try {
    process.kill(process.pid, signal);
  } catch {
    // fall through to the numeric status
  }
  return signalStatus(signal);
}
