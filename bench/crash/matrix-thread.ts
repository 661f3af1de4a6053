/**
 * One thread of the crash matrix, driven from its message to its end through kills and server
 * restarts. Every step is retried until it gets an answer; a step that could act twice is never
 * repeated blindly: the message is sent once, a decision is sent again only as the same Update
 * (the same update id, so the server answers with the first outcome), and a signalled decision is
 * never sent again (its loss would show as a thread that never finishes).
 */
import type { AirlockClient } from '../../src/client';
import { withWorkerDeadline } from '../../src/client/worker-deadline';
import { ErrorType, isAirlockError, type AgentResponse, type Decision, type ThreadSummary } from '../../src/core';
import { crashMessage } from './crash-agent';
import { FIRST_INTERRUPT_ID, type ThreadPlan } from './kill-points';

/** How long one attempt of a step waits for a worker before it is tried again. */
const STEP_DEADLINE_MS = 10_000;
const RETRY_PAUSE_MS = 1_000;
export const APPROVER = 'crash-matrix';

/** What happened to one thread's decision. */
export interface DecisionRecord {
  via: 'update' | 'signal';
  /** Sends of the decision (an Update sent again after an error counts again). */
  sends: number;
  /** What the sender saw when a send did not return an outcome, by error type (e.g. `WorkerUnavailable`). */
  failures: Record<string, number>;
  /** The first message seen of each error type. */
  samples: Record<string, string>;
  /** The outcome the sender finally got: `applied`, or `already-decided` (an earlier send had landed). */
  outcome?: 'applied' | 'already-decided' | 'signalled';
}

export class MatrixThread {
  readonly decision: DecisionRecord;
  /** Steps retried after an error (not counting decisions). */
  retries = 0;
  finishedAt?: number;
  summary?: ThreadSummary;
  /** The first send of the message; a model-call thread's stays open across the kill. */
  private firstResponse?: Promise<AgentResponse>;
  /** A decision sent while no worker runs whose sender keeps waiting. */
  private pendingSend?: Promise<boolean>;

  constructor(
    readonly plan: ThreadPlan,
    private readonly airlock: AirlockClient,
    private readonly deadline: number,
  ) {
    // Half of the decisions sent while no worker runs go as signals, the rest as Updates.
    this.decision = { via: plan.point === 'awaiting-approval' && this.index % 2 === 1 ? 'signal' : 'update', sends: 0, failures: {}, samples: {} };
  }

  /** The thread's number among those of its round, point and verdict. */
  get index(): number {
    return Number(this.plan.threadId.split('-').pop());
  }

  get threadId(): string {
    return this.plan.threadId;
  }

  /** Sends the message (once). A model-call thread's answer waits for the kill; the others wait here until the call waits for a decision. */
  async sendMessage(): Promise<void> {
    this.firstResponse = this.airlock.handleMessage(this.threadId, crashMessage(this.threadId));
    this.firstResponse.catch(() => undefined);
    if (this.plan.point !== 'model-call') this.expectWaiting(await this.firstResponse);
  }

  /** Waits until the call waits for a decision (through kills: the first answer, else `awaitResponse` again). */
  async untilWaiting(): Promise<void> {
    const first = await this.firstResponse?.catch(() => undefined);
    if (first?.state.status === 'awaiting_approval') return this.expectWaiting(first);
    this.expectWaiting(await this.retrying('await the interrupt', () => this.airlock.awaitResponse(this.threadId)));
  }

  /** The matrix's decision for this thread. */
  decisionToSend(): Decision {
    return { interruptId: FIRST_INTERRUPT_ID, action: this.plan.verdict, approver: APPROVER, reason: `crash matrix: ${this.plan.point}` };
  }

  /**
   * Sends the decision once: an Update that waits at most `deadlineMs` for a worker, or a signal.
   * @returns whether the sender got an outcome (a signal's is its being stored)
   */
  async sendDecisionOnce(deadlineMs = STEP_DEADLINE_MS): Promise<boolean> {
    this.decision.sends++;
    try {
      if (this.decision.via === 'signal') {
        await this.airlock.sendDecision(this.threadId, this.decisionToSend());
        this.decision.outcome = 'signalled';
        return true;
      }
      const outcome = await withWorkerDeadline(this.airlock.client, this.threadId, deadlineMs, () => this.airlock.decide(this.threadId, this.decisionToSend()));
      if (outcome.type === 'applied') this.decision.outcome = 'applied';
      else if (outcome.type === 'refused' && outcome.errorType === ErrorType.InterruptAlreadyDecided) this.decision.outcome = 'already-decided';
      else throw new Error(`decision refused: ${outcome.type === 'refused' ? `${outcome.errorType}: ${outcome.reason}` : outcome.type}`);
      return true;
    } catch (err) {
      const kind = isAirlockError(err) ? err.type : err instanceof Error ? err.name : 'unknown';
      this.decision.failures[kind] = (this.decision.failures[kind] ?? 0) + 1;
      this.decision.samples[kind] ??= err instanceof Error ? err.message : String(err);
      if (err instanceof Error && err.message.startsWith('decision refused')) throw err;
      return false;
    }
  }

  /** Sends the decision once and keeps waiting for its outcome in the background (`decide` waits for it). */
  sendInBackground(deadlineMs: number): void {
    this.pendingSend = this.sendDecisionOnce(deadlineMs);
    this.pendingSend.catch(() => undefined);
  }

  /** Sends the decision until the sender has an outcome (a repeated Update is the same Update). */
  async decide(): Promise<void> {
    await this.pendingSend;
    while (!this.decision.outcome) {
      if (await this.sendDecisionOnce()) return;
      this.checkDeadline('decide');
      await pause();
    }
  }

  /** Waits for the thread's answer after the decision, ends the thread and waits for its result. */
  async finish(): Promise<void> {
    for (;;) {
      const response = await this.retrying('await the answer', () => this.airlock.awaitResponse(this.threadId));
      if (response.state.status === 'idle') break;
      // A signalled decision the worker has not read yet: ask again, never send it again.
      this.checkDeadline(`answer (still ${response.state.status})`);
      await pause();
    }
    await this.retrying('end the thread', () => this.airlock.endThread(this.threadId).catch((err) => {
      if (isAirlockError(err) && err.type === ErrorType.ThreadEnded) return;
      throw err;
    }));
    this.summary = await this.retrying('await the result', () => this.airlock.handle(this.threadId).result() as Promise<ThreadSummary>);
    this.finishedAt = Date.now();
  }

  private expectWaiting(response: AgentResponse): void {
    const interrupt = response.state.currentInterrupt;
    if (response.state.status !== 'awaiting_approval' || interrupt?.id !== FIRST_INTERRUPT_ID) {
      throw new Error(`Thread ${this.threadId} should wait for ${FIRST_INTERRUPT_ID}, but is '${response.state.status}' (${interrupt?.id ?? 'no interrupt'})`);
    }
  }

  private async retrying<T>(what: string, step: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await withWorkerDeadline(this.airlock.client, this.threadId, STEP_DEADLINE_MS, step);
      } catch (err) {
        this.retries++;
        this.checkDeadline(`${what} (last error: ${err instanceof Error ? err.message : String(err)})`);
        await pause();
      }
    }
  }

  private checkDeadline(what: string): void {
    if (Date.now() > this.deadline) throw new Error(`Thread ${this.threadId} (${this.plan.point}, ${this.plan.verdict}): gave up on ${what}`);
  }
}

const pause = () => new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
