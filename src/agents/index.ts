export { defineAgent } from './define-agent';
export type { Agent, AgentDefinition } from './define-agent';
export { createExampleAgent, prepareExampleAgent } from './example-agent';
