/** The local cluster's waits: each ends, and its failure names what was awaited and the log to read. */
import { waitUntil } from '../../src/devtools/wait-until';

test('returns once the check holds', async () => {
  let calls = 0;
  await waitUntil(() => ++calls === 3, { timeoutMs: 5_000, intervalMs: 1, what: 'three calls' });
  expect(calls).toBe(3);
});

test('a check that never holds ends at the deadline, naming what was awaited and the log', async () => {
  await expect(waitUntil(() => false, { timeoutMs: 50, intervalMs: 5, what: 'the history service', logFile: '/tmp/history.log' })).rejects.toThrow(
    'Timed out after 0 s waiting for the history service; see /tmp/history.log',
  );
});

test('a reason to give up ends the wait at once, before the check runs again', async () => {
  let calls = 0;
  const wait = waitUntil(() => (++calls, false), {
    timeoutMs: 60_000,
    intervalMs: 1,
    what: 'the frontend',
    logFile: 'frontend.log',
    failed: () => (calls >= 2 ? 'The frontend service exited' : undefined),
  });
  await expect(wait).rejects.toThrow('The frontend service exited while waiting for the frontend; see frontend.log');
  expect(calls).toBe(2);
});
