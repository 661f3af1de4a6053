/** The crash matrix's pure parts: plans carried by thread ids, the side-effect ledger, hold markers (bench/crash/). */
import { appendFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HoldPoints } from '../../bench/crash/hold-points';
import { KILL_POINTS, planOf, planThreadId, pointsFor } from '../../bench/crash/kill-points';
import { SideEffectLedger, threadOfKey } from '../../bench/crash/side-effect-ledger';

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'airlock-ledger-'));

test('a thread id carries its round, kill point and verdict, and only matrix ids do', () => {
  for (const point of KILL_POINTS) {
    const threadId = planThreadId('run1', 3, point, 'reject', 12);
    expect(planOf(threadId)).toEqual({ threadId, round: 3, point, verdict: 'reject' });
  }
  expect(planOf('thread-1')).toBeUndefined();
  expect(planOf('crash-run1-r0-somewhere-accept-1')).toBeUndefined();
  expect(pointsFor('reject')).toEqual(['model-call', 'awaiting-approval', 'after-decision']);
});

test('the ledger makes an effect once per idempotency key, and counts every attempt apart', () => {
  const ledger = new SideEffectLedger(tempDir());
  const key = 'crash-run1-r0-after-effect-accept-0/1/call_1_1';
  ledger.recordAttempt({ key, attempt: 1, pid: 1, stage: 'started' });
  expect(ledger.applyOnce(key, 'entry')).toBe(true);
  ledger.recordAttempt({ key, attempt: 2, pid: 2, stage: 'started' });
  expect(ledger.applyOnce(key, 'entry')).toBe(false);
  ledger.recordAttempt({ key, attempt: 2, pid: 2, stage: 'already-applied' });
  expect(new SideEffectLedger(ledger.dir).applyOnce('other/1/call_1_1', 'entry')).toBe(true);

  const contents = ledger.read();
  expect(contents.effects).toEqual(new Map([[key, process.pid], ['other/1/call_1_1', process.pid]]));
  expect(contents.attempts.get(key)).toBe(2);
  expect(contents.alreadyApplied.get(key)).toBe(1);
  expect(threadOfKey(key)).toBe('crash-run1-r0-after-effect-accept-0');
});

test('a line cut short by a kill is counted and skipped', () => {
  const ledger = new SideEffectLedger(tempDir());
  ledger.recordAttempt({ key: 'a/1/c', attempt: 1, pid: 1, stage: 'started' });
  appendFileSync(path.join(ledger.dir, 'attempts.jsonl'), '{"key":"a/1/c","att');
  const contents = ledger.read();
  expect(contents.attempts.get('a/1/c')).toBe(1);
  expect(contents.tornLines).toBe(1);
});

test('a thread holds at a point only the first time it gets there, whichever process asks', () => {
  const dir = tempDir();
  const holds = new HoldPoints(dir);
  expect(holds.claim('tool-running', 't1')).toBe(true);
  expect(new HoldPoints(dir).claim('tool-running', 't1')).toBe(false);
  expect(holds.claim('after-effect', 't1')).toBe(true);
  expect(holds.reached('tool-running')).toEqual(new Set(['t1']));
});
