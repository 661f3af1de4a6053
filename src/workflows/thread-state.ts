/**
 * A thread's state and its transitions: the conversation, the message queue, the interrupts and
 * how decisions change them. Plain and deterministic (no Temporal calls): the workflow function
 * wires it to handlers and activities; unit tests drive it directly.
 */
import { ErrorType, checkMessage, parseDecision, safeDecisionParts } from '../core';
import type {
  AgentResponse,
  AgentSpec,
  AuditEvent,
  ChatMessage,
  DecisionOutcome,
  HitlInterrupt,
  ThreadState,
  ThreadStatus,
} from '../core';
import { InterruptBook, type DecisionArrival } from './interrupt-book';
import { MessageQueue } from './message-queue';
import { CANCELLED_BY_END } from './model-text';

/** What the thread starts from: a fresh start, or what continue-as-new carried. */
export interface ThreadStart {
  threadId: string;
  agentName: string;
  messages?: ChatMessage[];
  turn?: number;
  inbox?: string[];
}

export class AgentThreadState {
  readonly threadId: string;
  readonly agentName: string;
  readonly messages: ChatMessage[];
  readonly queue: MessageQueue;
  readonly book: InterruptBook;
  /** The agent as the worker's registry gave it, loaded at the start and for each message. */
  spec?: AgentSpec;
  turn: number;
  ended = false;
  lastError: ThreadState['lastError'];

  constructor(start: ThreadStart) {
    this.threadId = start.threadId;
    this.agentName = start.agentName;
    this.messages = [...(start.messages ?? [])];
    this.turn = start.turn ?? 0;
    this.queue = new MessageQueue(start.inbox);
    this.book = new InterruptBook(start.threadId, () => this.spec?.trustedKeys ?? []);
  }

  /** The loaded agent. */
  get agent(): AgentSpec {
    if (!this.spec) throw new Error('The agent is not loaded yet');
    return this.spec;
  }

  status(): ThreadStatus {
    if (this.book.hasPending()) return 'awaiting_approval';
    if (this.queue.busy || this.queue.waiting().length > 0) return 'running';
    return this.ended ? 'ended' : 'idle';
  }

  /** Nothing runs: the thread has answered, waits for a person, or has ended. */
  settled(): boolean {
    return this.status() !== 'running';
  }

  snapshot(): ThreadState {
    const pendingInterrupts = this.book.pending();
    return {
      threadId: this.threadId,
      agent: this.agentName,
      status: this.status(),
      messages: this.messages,
      currentInterrupt: pendingInterrupts[0],
      pendingInterrupts,
      interrupts: this.book.all(),
      turn: this.turn,
      lastError: this.lastError,
    };
  }

  /** The agent's last words, unless the last message got no answer. */
  lastAnswer(): string {
    const last = this.messages[this.messages.length - 1];
    return last?.role === 'assistant' && !this.lastError ? last.content : '';
  }

  /** What `awaitResponse` returns. */
  response(): AgentResponse {
    const state = this.snapshot();
    return { content: state.status === 'idle' ? this.lastAnswer() : '', state };
  }

  /** Why a message cannot be taken now, or `undefined`. */
  refuseMessage(text: unknown): { type: string; message: string } | undefined {
    if (this.ended) return { type: ErrorType.ThreadEnded, message: 'This thread has ended and takes no more messages' };
    const problem = checkMessage(text);
    return problem ? { type: ErrorType.MessageInvalid, message: problem } : undefined;
  }

  /** Whether the sender of message `n` (an Update) can be answered: its answer, its interrupt, or the end. */
  canRespondTo(n: number): boolean {
    return this.queue.isAnswered(n) || (this.queue.isAnswering(n) && this.status() === 'awaiting_approval') || (this.ended && this.queue.isNotStarted(n));
  }

  /** The response to message `n`: its own answer once answered, else the interrupt it waits on. */
  responseTo(n: number): AgentResponse {
    return { content: this.queue.takeAnswer(n), state: this.snapshot() };
  }

  /** Starts answering the next queued message: it joins the conversation. */
  startNextMessage(): void {
    this.messages.push({ role: 'user', content: this.queue.start() });
    this.lastError = undefined;
  }

  /** Ends the message being answered. */
  finishMessage(): void {
    this.queue.finish(this.lastAnswer());
  }

  /**
   * Applies a decision or refuses it. The audit event goes to history either way: a refusal with
   * the decision's well-formed parts and how it arrived; malformed input is described, never kept.
   */
  decide(raw: unknown, arrival: DecisionArrival, now: number): { outcome: DecisionOutcome; audit: AuditEvent } {
    const parsed = parseDecision(raw);
    const check = parsed.ok ? this.book.check(parsed.decision) : { ok: false as const, errorType: ErrorType.DecisionInvalid, reason: parsed.reason };
    if (!parsed.ok || !check.ok) {
      const refusal = check as Extract<typeof check, { ok: false }>;
      const decision = parsed.ok ? parsed.decision : safeDecisionParts(raw);
      return {
        outcome: { type: 'refused', interruptId: decision.interruptId ?? '', reason: refusal.reason, errorType: refusal.errorType },
        audit: { kind: 'decision-refused', decision, errorType: refusal.errorType, reason: refusal.reason, at: new Date(now).toISOString(), ...arrival },
      };
    }
    const resolution = this.book.apply(check, parsed.decision, arrival, now);
    return { outcome: { type: 'applied', interruptId: check.interrupt.id, resolution }, audit: resolvedEvent(check.interrupt) };
  }

  /** Ends the thread: what still waits for a person is cancelled. Returns the audit events. */
  end(now: number): AuditEvent[] {
    this.ended = true;
    return this.cancelPending(now);
  }

  /** Cancels every interrupt still waiting (the thread ended). Returns the audit events. */
  cancelPending(now: number): AuditEvent[] {
    return this.book.cancelPending(CANCELLED_BY_END, now).map(resolvedEvent);
  }
}

/** The audit event of an interrupt that has just been resolved. */
export function resolvedEvent(interrupt: HitlInterrupt): AuditEvent {
  return { kind: 'interrupt-resolved', interruptId: interrupt.id, toolName: interrupt.toolName, resolution: interrupt.resolution! };
}
