/** The bare workflow's activities: the same offline model and the same do-nothing tool as the bench agent's. */
import type { ChatMessage } from '../../src/core';
import { OfflineModel } from '../../src/models';
import { nowMs } from '../clock';
import type { BareActivities, BareMessage } from './types';

const TOOLS = [{ name: 'delete_file', description: 'Pretends to delete a file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }];

export function createBareActivities(onToolStart: (threadId: string, at: number) => void): BareActivities {
  const model = new OfflineModel();
  return {
    async bareModel(messages) {
      const conversation: ChatMessage[] = messages.map((message, index): ChatMessage =>
        message.role === 'tool'
          ? { role: 'tool', toolCallId: `c${index}`, name: 'delete_file', content: message.content }
          : message.role === 'assistant'
            ? { role: 'assistant', content: message.content, ...(message.toolCall && { toolCalls: [{ id: `c${index + 1}`, ...message.toolCall }] }) }
            : { role: 'user', content: message.content },
      );
      const reply = await model.complete({ instructions: 'Benchmark agent.', messages: conversation, tools: TOOLS, signal: new AbortController().signal, threadId: '', turn: 0 });
      const call = reply.toolCalls?.[0];
      return { role: 'assistant', content: reply.content, ...(call && { toolCall: { name: call.name, arguments: call.arguments } }) } satisfies BareMessage;
    },
    async bareTool(threadId, args) {
      onToolStart(threadId, nowMs());
      const { path } = JSON.parse(args) as { path: string };
      return `deleted ${path} (benchmark: nothing was touched)`;
    },
  };
}
