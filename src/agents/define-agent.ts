import { DECISION_ACTIONS, GRANT_LIMITS, toMilliseconds } from '../core';
import type { AgentSpec, HitlPolicy, ModelTurns } from '../core';
import type { Tool } from '../tools';

/** What a policy's rule says about one call: run it (and why), or ask a person (why, and who may approve). */
export type PolicyVerdict = { ask: false; reason: string } | { ask: true; reason: string; approvers?: string[] };

/**
 * A tool's policy as an agent definition gives it: the `HitlPolicy` data, plus an optional rule
 * that looks at each call's arguments.
 */
export interface ToolPolicy<Args = any> extends HitlPolicy {
  /**
   * Decides per call whether a person must approve, and why, in words the approver (or the audit)
   * reads: `{ ask: true, reason: 'amount 5,000 exceeds 1,000', approvers: ['finance'] }` or
   * `{ ask: false, reason: 'amount 50 is at most 1,000' }`. Runs in the worker when the model's
   * call is checked, again on an edit, and again in the tool's activity; each outcome is recorded
   * in history, so replay never runs it. It receives the arguments after the tool's schema
   * accepted them. A rule that throws or answers malformed asks a person (fail closed).
   */
  review?: (args: Args) => PolicyVerdict;
}

/** An agent: instructions, tools, and which tools need a person's approval. */
export interface AgentDefinition {
  name: string;
  instructions: string;
  tools: Tool[];
  /** HITL policy per tool name (the seed's `with_tool_interrupt`). Tools without one run without approval. */
  interrupts: Record<string, ToolPolicy>;
  /** Model turns allowed per user message. Default 20. */
  maxTurns?: number;
  /** What a user message does while approvals wait (see `AgentSpec.onMessageWhileWaiting`). Default `'queue'`. */
  onMessageWhileWaiting?: 'queue' | 'reject-pending';
  /** How model turns run (`ModelTurns`). Default: the worker's model's choice (`ChatModel.turns`), else `'activity'`. */
  modelTurns?: ModelTurns;
}

/** A defined agent, with the data the workflow receives. */
export interface Agent extends AgentDefinition {
  /** The agent as data: what the workflow keeps in history. */
  spec(): AgentSpec;
  /** The tool of this agent with that name. */
  tool(name: string): Tool | undefined;
}

/**
 * Defines an agent.
 * @throws Error when two tools share a name, a policy names a tool the agent does not have,
 * or a policy's timeout is not a valid duration.
 */
export function defineAgent(definition: AgentDefinition): Agent {
  const tools = new Map<string, Tool>();
  for (const tool of definition.tools) {
    if (tools.has(tool.name)) throw new Error(`Agent '${definition.name}' has two tools named '${tool.name}'`);
    tools.set(tool.name, tool);
  }
  for (const [toolName, policy] of Object.entries(definition.interrupts)) {
    if (!tools.has(toolName)) throw new Error(`Agent '${definition.name}' has a policy for '${toolName}' but no such tool`);
    if (policy.timeout !== undefined) toMilliseconds(policy.timeout);
    if (policy.onTimeout !== undefined && policy.onTimeout !== 'accept' && policy.onTimeout !== 'reject') {
      throw new Error(`Policy for '${toolName}': onTimeout must be 'accept' or 'reject'`);
    }
    if (policy.allowedDecisions !== undefined && (policy.allowedDecisions.length === 0 || policy.allowedDecisions.some((action) => !DECISION_ACTIONS.includes(action)))) {
      throw new Error(`Policy for '${toolName}': allowedDecisions must list some of ${DECISION_ACTIONS.join(', ')}`);
    }
    if (typeof policy.grants === 'object' && policy.grants.maxTtl !== undefined && toMilliseconds(policy.grants.maxTtl) > GRANT_LIMITS.maxTtlMs) {
      throw new Error(`Policy for '${toolName}': grants.maxTtl may be at most 3650d`);
    }
    if (policy.review !== undefined && typeof policy.review !== 'function') throw new Error(`Policy for '${toolName}': review must be a function of the arguments`);
  }
  if (definition.modelTurns !== undefined && definition.modelTurns !== 'local' && definition.modelTurns !== 'activity') {
    throw new Error(`Agent '${definition.name}': modelTurns must be 'local' or 'activity'`);
  }
  if (definition.onMessageWhileWaiting !== undefined && definition.onMessageWhileWaiting !== 'queue' && definition.onMessageWhileWaiting !== 'reject-pending') {
    throw new Error(`Agent '${definition.name}': onMessageWhileWaiting must be 'queue' or 'reject-pending'`);
  }
  // The policies as data (what history keeps): a rule is a function, so it is marked, not copied.
  const interrupts = Object.fromEntries(
    Object.entries(definition.interrupts).map(([toolName, { review, ...policy }]) => [toolName, review ? { ...policy, conditional: true } : policy]),
  );
  const toolOptions = Object.fromEntries(
    definition.tools
      .filter((tool) => tool.timeout !== undefined || tool.maxAttempts !== undefined)
      .map((tool) => [tool.name, { timeout: tool.timeout, maxAttempts: tool.maxAttempts }]),
  );
  for (const tool of definition.tools) if (tool.timeout !== undefined) toMilliseconds(tool.timeout);
  return {
    ...definition,
    spec: () => ({
      name: definition.name,
      instructions: definition.instructions,
      tools: [...tools.keys()],
      interrupts,
      maxTurns: definition.maxTurns,
      ...(definition.onMessageWhileWaiting && { onMessageWhileWaiting: definition.onMessageWhileWaiting }),
      ...(definition.modelTurns && { modelTurns: definition.modelTurns }),
      ...(Object.keys(toolOptions).length ? { toolOptions } : {}),
    }),
    tool: (name) => tools.get(name),
  };
}
