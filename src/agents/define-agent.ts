import { toMilliseconds } from '../core';
import type { AgentSpec, HitlPolicy } from '../core';
import type { Tool } from '../tools';

/** An agent: instructions, tools, and which tools need a person's approval. */
export interface AgentDefinition {
  name: string;
  instructions: string;
  tools: Tool[];
  /** HITL policy per tool name (the seed's `with_tool_interrupt`). Tools without one run without approval. */
  interrupts: Record<string, HitlPolicy>;
  /** Model turns allowed per user message. Default 20. */
  maxTurns?: number;
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
  }
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
      interrupts: definition.interrupts,
      maxTurns: definition.maxTurns,
      ...(Object.keys(toolOptions).length ? { toolOptions } : {}),
    }),
    tool: (name) => tools.get(name),
  };
}
