import { afterEach, expect, it } from 'vitest';
import { FORWARDED_SIGNALS, registerCleanup, relaySignals, TERMINATING_SIGNALS } from '../../src/io/process-lifecycle.js';

const listening = (): NodeJS.Signals[] => TERMINATING_SIGNALS.filter((s) => process.listenerCount(s) > 0);

afterEach(() => {
  // Nothing registered: every signal has its usual effect again.
  expect(listening()).toEqual([]);
});

it('a cleanup that does not catch signals leaves them alone', () => {
  const unregister = registerCleanup(() => {});
  expect(listening()).toEqual([]);
  unregister();
});

it('a cleanup that catches signals handles every terminating one until it is unregistered', () => {
  const first = registerCleanup(() => {}, { catchSignals: true });
  const second = registerCleanup(() => {}, { catchSignals: true });
  expect(listening()).toEqual([...TERMINATING_SIGNALS]);
  first();
  expect(listening()).toEqual([...TERMINATING_SIGNALS]);
  second();
});

it('a relay takes only the forwarded signals, and tsops keeps running', async () => {
  let stop = (): void => {};
  const got = new Promise<NodeJS.Signals>((resolve) => {
    stop = relaySignals(resolve);
  });
  expect(listening().sort()).toEqual([...FORWARDED_SIGNALS].sort());
  process.kill(process.pid, 'SIGUSR2');
  expect(await got).toBe('SIGUSR2');
  stop();
});

it('a relay with a signal-catching cleanup: forwarded signals still go to the relay, not to the cleanup', async () => {
  let cleaned = false;
  const unregister = registerCleanup(() => (cleaned = true), { catchSignals: true });
  let stop = (): void => {};
  const got = new Promise<NodeJS.Signals>((resolve) => {
    stop = relaySignals(resolve);
  });
  process.kill(process.pid, 'SIGUSR1');
  expect(await got).toBe('SIGUSR1');
  expect(cleaned).toBe(false);
  stop();
  unregister();
});
