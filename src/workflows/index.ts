export { agentThread } from './agent-thread';
