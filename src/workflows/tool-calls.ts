/**
 * A model turn's tool calls: unprotected ones run at once, protected ones open an interrupt and
 * wait for a person (or the policy's durable timeout), then run exactly as shown or are skipped.
 * Every outcome comes back as the text the model reads.
 */
import { ActivityFailure, ApplicationFailure, condition, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import { ErrorType, hasOwn, policyInSettings, toMilliseconds } from '../core';
import type { AirlockActivities, CheckedToolCall, HitlInterrupt, HitlPolicy, ToolApproval, ToolRunOptions } from '../core';
import { cancelledText, editedText, rejectedByMessageText, rejectedText, respondedText, timedOutText, toolErrorText } from './model-text';
import { resolvedEvent, type AgentThreadState } from './thread-state';
import type { ThreadTelemetry } from './thread-telemetry';
import type { Visibility } from './visibility';

// A tool that throws is retried a few times with the same idempotency key; after that the
// model is told it failed. Argument errors never reach here: they are returned, not thrown. A tool
// the worker does not have fails for good at once (the activity says so: history records no list of such errors).
const TOOL_RETRY: RetryPolicy = { initialInterval: '1s', maximumAttempts: 3 };
const { executeTool } = proxyActivities<AirlockActivities>({ startToCloseTimeout: '10m', retry: TOOL_RETRY });

/** A tool call about to run: the model's call id, the arguments, and the approval that opened it. */
interface ToolRun {
  id: string;
  name: string;
  args: unknown;
  turn: number;
  runOptions?: ToolRunOptions;
  approval?: ToolApproval;
}

export class ToolCalls {
  constructor(
    private readonly thread: AgentThreadState,
    private readonly visibility: Visibility,
    private readonly telemetry: ThreadTelemetry,
  ) {}

  /** Handles one checked call of turn `turn`; resolves with what the model reads. */
  async handle(call: CheckedToolCall, turn: number): Promise<string> {
    if (call.status === 'invalid') return toolErrorText(call.errorType, call.error);
    const agent = this.thread.agent;
    // The policy the worker's registry gave for this call; results recorded by older versions carry none.
    const policy: HitlPolicy | null = call.policy !== undefined ? call.policy : policyInSettings(agent, call.name);
    const run = { id: call.id, name: call.name, args: call.args, turn, runOptions: call.runOptions };
    if (!policy || policy.allowAuto) {
      // A conditional policy's rule let it through: the audit says which.
      if (call.review) this.visibility.audit({ kind: 'call-allowed', toolCallId: call.id, turn, toolName: call.name, args: call.args, by: 'rule', reason: call.review.reason, at: new Date().toISOString() });
      return this.run(run, policy ? (call.review ? `allowed: ${call.review.reason}` : 'auto-approved') : 'unprotected');
    }
    const grant = this.thread.grants.covering(call.name, call.args, policy, Date.now());
    if (grant) {
      grant.uses++;
      this.visibility.audit({ kind: 'call-allowed', toolCallId: call.id, turn, toolName: call.name, args: call.args, by: 'grant', reason: `grant ${grant.id} by ${grant.grantedBy}`, grantId: grant.id, at: new Date().toISOString() });
      return this.run({ ...run, approval: { by: 'grant', grant: { ...grant } } }, `granted by ${grant.grantedBy} (${grant.id})`);
    }
    const interrupt = this.thread.book.open(call, call.args, policy, turn, Date.now(), call.review?.ask ? call.review.reason : undefined);
    this.visibility.audit({ kind: 'interrupt-opened', interrupt: { ...interrupt } });
    // Ended while the model was thinking: nobody is asked any more.
    if (this.thread.ended) this.thread.cancelPending(Date.now()).forEach((event) => this.visibility.audit(event));
    return this.holdForApproval(interrupt, call.runOptions);
  }

  /** Waits for a person's decision or the policy's timeout, then runs or skips the call. */
  private async holdForApproval(interrupt: HitlInterrupt, runOptions?: ToolRunOptions): Promise<string> {
    this.visibility.sync();
    const span = this.telemetry.approvalOpened(interrupt);
    const decided = () => interrupt.resolution !== undefined;
    if (interrupt.policy.timeout !== undefined) {
      const inTime = await condition(decided, toMilliseconds(interrupt.policy.timeout), {
        summary: `approval deadline for ${interrupt.toolName} (${interrupt.id})`,
      });
      if (!inTime && !decided()) {
        this.thread.book.expire(interrupt, Date.now());
        this.visibility.audit(resolvedEvent(interrupt));
      }
    } else {
      await condition(decided);
    }
    this.visibility.sync();
    this.telemetry.approvalResolved(interrupt, span);
    const resolution = interrupt.resolution!;
    const call = { id: interrupt.toolCallId, name: interrupt.toolName, args: interrupt.toolArgs, turn: interrupt.turn, runOptions };
    switch (resolution.type) {
      case 'accepted':
      case 'edited': {
        const { approver, reason, signature } = resolution;
        const edited = resolution.type === 'edited';
        const decision = resolution.grantId ? this.thread.grants.all().find((grant) => grant.id === resolution.grantId)?.decision : undefined;
        const approval: ToolApproval = {
          by: 'person',
          interruptId: interrupt.id,
          approver,
          ...(reason !== undefined && { reason }),
          ...(signature && { signature }),
          ...(resolution.type === 'edited' && { action: 'edit' as const, decidedOnDigest: resolution.decidedOnDigest }),
          ...(decision?.grant && { grant: decision.grant }),
        };
        const output = await this.run({ ...call, approval }, edited ? `edited and approved by ${approver}` : `approved by ${approver}`);
        // The model is told when a person changed what it asked for, and how.
        return interrupt.originalArgs !== undefined ? editedText(edited ? approver : (interrupt.edits?.[interrupt.edits.length - 1]?.approver ?? approver), interrupt.originalArgs, interrupt.toolArgs, output) : output;
      }
      case 'responded':
        return respondedText(interrupt.toolName, resolution.approver, resolution.message);
      case 'rejected':
        if (resolution.via === 'message') return rejectedByMessageText(interrupt.toolName);
        return rejectedText(interrupt.toolName, resolution.approver, resolution.reason);
      case 'timed-out':
        if (resolution.outcome === 'accept') return this.run({ ...call, approval: { by: 'timeout', interruptId: interrupt.id } }, 'accepted at the approval timeout');
        return timedOutText(interrupt);
      case 'cancelled':
        return cancelledText(interrupt.toolName, resolution.reason);
    }
  }

  /** Runs one tool call as an activity; failures come back as text for the model. */
  private async run(call: ToolRun, why: string): Promise<string> {
    const { threadId, agentName } = this.thread;
    const toolOptions = this.thread.agent.toolOptions ?? {};
    const options = call.runOptions ?? (hasOwn(toolOptions, call.name) ? toolOptions[call.name] : undefined);
    try {
      const result = await executeTool.executeWithOptions(
        {
          summary: `${call.name} — ${why}`,
          ...(options?.timeout !== undefined && { startToCloseTimeout: toMilliseconds(options.timeout) }),
          ...(options?.maxAttempts !== undefined && { retry: { ...TOOL_RETRY, maximumAttempts: options.maxAttempts } }),
        },
        [
          {
            agent: agentName,
            toolName: call.name,
            toolCallId: call.id,
            args: call.args,
            ...(call.approval && { approval: call.approval }),
            // Version 6: the activity works out the thread id, idempotency key and interrupt id from the workflow id, turn and call id.
            ...(this.thread.compactRecords ? { turn: call.turn } : { threadId, idempotencyKey: `${threadId}/${call.turn}/${call.id}`, interruptId: call.approval?.interruptId }),
          },
        ],
      );
      if (!result.ok) return toolErrorText(result.errorType, result.error);
      this.thread.toolRan(call.id, result.output);
      return result.output;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      return toolErrorText(cause?.type ?? ErrorType.ToolFailed, cause?.message ?? err.message);
    }
  }
}
