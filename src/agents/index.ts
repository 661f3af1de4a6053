export { defineAgent } from './define-agent';
export type { Agent, AgentDefinition, PolicyVerdict, ToolPolicy } from './define-agent';
export { createExampleAgent, prepareExampleAgent } from './example-agent';
