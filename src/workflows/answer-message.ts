/** Answering one user message: model turns until the model answers without tool calls. */
import { ActivityFailure, ApplicationFailure, TemporalFailure, proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import { ErrorType, withCallsInFull } from '../core';
import type { AirlockActivities, CallModelResult } from '../core';
import { maxTurnsText } from './model-text';
import type { AgentThreadState } from './thread-state';
import type { ToolCalls } from './tool-calls';

const DEFAULT_MAX_TURNS = 20;

const MODEL_RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 10,
  nonRetryableErrorTypes: [ErrorType.ModelRequestRejected, ErrorType.AgentNotFound, ErrorType.ModelResponseTooLarge],
};

const { callModel } = proxyActivities<AirlockActivities>({
  startToCloseTimeout: '5m',
  // The model call heartbeats every 5 s: a worker that dies mid-call is noticed after 20 s, and
  // the turn runs again on another worker. (Options are not part of replay: running threads
  // pick this up at their next model turn.)
  heartbeatTimeout: '20s',
  retry: MODEL_RETRY,
});

/**
 * Version 4 and 5 threads whose worker runs model turns locally (`ModelTurns`): the turn as a local
 * activity. It runs in the worker that runs the thread, within the workflow task, and history
 * records only its result (one marker event): no activity task, no workflow task of its own. A
 * worker that dies mid-call leaves no marker, so the next worker runs the turn again (the model is
 * only read). A call longer than the workflow task timeout keeps its task alive by heartbeats;
 * Updates, signals and queries wait for the turn meanwhile.
 */
const { callModel: callModelLocally } = proxyLocalActivities<AirlockActivities>({
  startToCloseTimeout: '5m',
  retry: MODEL_RETRY,
});

/**
 * Runs model turns for the message being answered: each turn's tool calls start at once
 * (unprotected ones run, protected ones wait for a person) and their results go back to the model
 * in its order. Stops after the agent's `maxTurns`, or when the thread ends.
 */
export async function answerMessage(thread: AgentThreadState, tools: ToolCalls): Promise<void> {
  // A lean run learns the agent's settings (maxTurns among them) from its first model turn.
  const maxTurns = () => thread.spec?.maxTurns ?? DEFAULT_MAX_TURNS;
  for (let turnsThisMessage = 0; turnsThisMessage < maxTurns(); turnsThisMessage++) {
    const turn = ++thread.turn;
    const { result, local } = await runModelTurn(thread, turn, turnsThisMessage === 0);
    if (result.spec) thread.spec = result.spec;
    thread.messages.push(result.message);
    if (local) thread.localReplyRecorded();
    if (result.toolCalls.length === 0) return;
    const outputs = await Promise.all(result.toolCalls.map((call) => tools.handle(call, turn)));
    result.toolCalls.forEach((call, index) => {
      thread.messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: outputs[index] });
    });
    // Ended, or a user message answered what waited: that message is answered next.
    if (thread.ended || thread.takeTurnCut()) return;
  }
  thread.messages.push({ role: 'assistant', content: maxTurnsText(maxTurns()) });
}

/**
 * One model turn, run as the thread's settings say. A version 5 run without its settings asks a
 * local turn for them: it answers when the agent's turns are local, or brings only the settings
 * (then the turn runs as an activity), or finds no such agent in this worker (then the activity,
 * which any worker hosting it may run, asks for them).
 */
async function runModelTurn(thread: AgentThreadState, turn: number, firstOfMessage: boolean): Promise<{ result: CallModelResult; local: boolean }> {
  for (;;) {
    const local = thread.modelTurnIsLocal();
    const asking = local && !thread.spec;
    const input = thread.modelInput(turn, firstOfMessage);
    try {
      const result = await (local ? callModelLocally : callModel).executeWithOptions({ summary: `model turn ${turn}` }, [input]);
      if (!('deferred' in result)) return { result: withCallsInFull(result), local };
      thread.turnDeferred(input, result.spec);
    } catch (err) {
      if (local) thread.modelTurnFailed(input);
      if (asking && err instanceof ApplicationFailure && err.type === ErrorType.AgentNotFound) {
        thread.settingsNotInThisWorker();
        continue;
      }
      // A local activity's failure arrives as its cause alone: it is given the activity's
      // wrapping, so a failed turn reads the same however it ran (the thread stays usable).
      throw local && err instanceof TemporalFailure && !(err instanceof ActivityFailure)
        ? new ActivityFailure('The model turn failed', 'callModel', undefined, RetryState.NON_RETRYABLE_FAILURE, undefined, err)
        : err;
    }
  }
}
