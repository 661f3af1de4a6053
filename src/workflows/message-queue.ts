/**
 * The order in which a thread answers its user messages, and which answer belongs to whom.
 * Messages are numbered in arrival order (carried ones first) and answered one at a time in that
 * order; a sender that waits (an Update) gets its own message's answer, never a later message's
 * answer or an earlier message's interrupt. Deterministic, no I/O.
 */
export class MessageQueue {
  private readonly queued: string[];
  private received: number;
  private answered = 0;
  /** The number of the message being answered, 0 while idle. */
  private answering = 0;
  /** The final answer of each message whose sender still waits for it, by message number. */
  private readonly answers = new Map<number, string>();

  constructor(carried: readonly string[] = []) {
    this.queued = [...carried];
    this.received = carried.length;
  }

  /** Queues a message; returns its number. `awaited`: its sender waits for the answer. */
  receive(text: string, awaited: boolean): number {
    this.queued.push(text);
    this.received += 1;
    if (awaited) this.answers.set(this.received, '');
    return this.received;
  }

  /** Messages received and not yet being answered, oldest first. */
  waiting(): readonly string[] {
    return this.queued;
  }

  /** The number of the message being answered (0 while idle). */
  current(): number {
    return this.answering;
  }

  /** Whether message `n`'s sender waits for its answer (an Update). */
  isAwaited(n: number): boolean {
    return this.answers.has(n);
  }

  /** Whether a message is being answered now. */
  get busy(): boolean {
    return this.answering !== 0;
  }

  /** Starts answering the oldest queued message and returns its text. */
  start(): string {
    const text = this.queued.shift();
    if (text === undefined) throw new Error('No message is queued');
    this.answering = this.answered + 1;
    return text;
  }

  /** Ends the message being answered, with its final answer ('' when it got none). */
  finish(answer: string): void {
    if (this.answers.has(this.answering)) this.answers.set(this.answering, answer);
    this.answering = 0;
    this.answered += 1;
  }

  /** Message `n` has been answered. */
  isAnswered(n: number): boolean {
    return this.answered >= n;
  }

  /** Message `n` is the one being answered now. */
  isAnswering(n: number): boolean {
    return this.answering === n;
  }

  /** Message `n` was not started yet (so an ended thread will never answer it). */
  isNotStarted(n: number): boolean {
    return this.answering < n && !this.isAnswered(n);
  }

  /** The answer of message `n` for its sender, once; '' when there is none. */
  takeAnswer(n: number): string {
    const answer = this.answers.get(n) ?? '';
    this.answers.delete(n);
    return answer;
  }
}
