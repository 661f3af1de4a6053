/**
 * The agent the crash matrix runs: one protected tool, `ledger_write`, that writes its effect to
 * the side-effect ledger once per idempotency key, and the offline model; both hold a thread at its
 * kill point the first time it gets there (hold-points.ts), so the worker can be killed right there.
 */
import { z } from 'zod';
import { defineAgent, type Agent } from '../../src/agents';
import type { AssistantMessage } from '../../src/core';
import { OfflineModel, type ChatModel, type ChatModelRequest } from '../../src/models';
import { defineTool } from '../../src/tools';
import { HoldPoints } from './hold-points';
import { planOf, type KillPoint } from './kill-points';
import { SideEffectLedger } from './side-effect-ledger';

export const CRASH_AGENT = 'crash-matrix';
export const LEDGER_TOOL = 'ledger_write';

/** The message that makes the offline model call the ledger tool for `threadId`. */
export const crashMessage = (threadId: string): string => `call ${LEDGER_TOOL} with ${JSON.stringify({ entry: threadId })}`;

/**
 * A tool run held at its point gives up after this long, so that a hold claimed by a worker that is
 * not killed (a decision's tool that first started after the kill) frees its activity slot; the
 * tool's own timeout has long since handed the call to another attempt.
 */
const HOLD_LIMIT_MS = 60_000;
/** The tool's start-to-close timeout: a killed run is retried this long after it started. */
export const TOOL_TIMEOUT = '5s';
/** Runs of one call at most: enough for a call killed in several rounds. */
export const TOOL_MAX_ATTEMPTS = 25;

const hold = (signal?: AbortSignal) =>
  new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error('held past the kill that never came')), HOLD_LIMIT_MS);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('held run cancelled'));
    });
  });

/** Holds the first time the thread reaches `point`, when that is the thread's planned kill point. */
async function holdIfPlanned(holds: HoldPoints, threadId: string, point: KillPoint, signal?: AbortSignal): Promise<void> {
  if (planOf(threadId)?.point === point && holds.claim(point, threadId)) await hold(signal);
}

/** The offline model, holding threads planned for `model-call` in their first turn. */
export class HoldingModel implements ChatModel {
  readonly name = 'offline (crash matrix)';
  private readonly model = new OfflineModel();
  /** As the offline model's: local activities, so a `model-call` kill is one inside a workflow task. */
  readonly turns = this.model.turns;

  constructor(private readonly holds: HoldPoints) {}

  async complete(request: ChatModelRequest): Promise<AssistantMessage> {
    if (request.turn === 1) await holdIfPlanned(this.holds, request.threadId, 'model-call', request.signal);
    return this.model.complete(request);
  }
}

/** The crash matrix's agent, its tool writing to the ledger in `dir`. */
export function createCrashAgent(dir: string): Agent {
  const ledger = new SideEffectLedger(dir);
  const holds = new HoldPoints(dir);
  const ledgerWrite = defineTool({
    name: LEDGER_TOOL,
    description: 'Writes an entry to the ledger, once per call however often it runs',
    parameters: z.object({ entry: z.string() }),
    timeout: TOOL_TIMEOUT,
    maxAttempts: TOOL_MAX_ATTEMPTS,
    async execute({ entry }, { threadId, idempotencyKey: key, attempt, signal }) {
      ledger.recordAttempt({ key, attempt, pid: process.pid, stage: 'started' });
      // The decision's tool is held so that the kill that follows the decision lands before it completes.
      await holdIfPlanned(holds, threadId, 'after-decision', signal);
      await holdIfPlanned(holds, threadId, 'tool-running', signal);
      const applied = ledger.applyOnce(key, entry);
      ledger.recordAttempt({ key, attempt, pid: process.pid, stage: applied ? 'applied' : 'already-applied' });
      await holdIfPlanned(holds, threadId, 'after-effect', signal);
      return applied ? `ledger entry ${entry} written` : `ledger entry ${entry} was already written`;
    },
  });
  return defineAgent({
    name: CRASH_AGENT,
    instructions: 'Crash matrix agent.',
    tools: [ledgerWrite],
    interrupts: { [LEDGER_TOOL]: { allowAuto: false, note: 'Crash matrix: every call needs a decision' } },
  });
}

/** The model for the crash matrix's workers. */
export const createCrashModel = (dir: string): ChatModel => new HoldingModel(new HoldPoints(dir));
