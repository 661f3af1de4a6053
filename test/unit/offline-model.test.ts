/** The offline model understands the README's phrasings. */
import type { ChatMessage, ToolSchema } from '../../src/core';
import { OfflineModel } from '../../src/models';

const tools: ToolSchema[] = ['delete_file', 'send_email'].map((name) => ({ name, description: name, parameters: {} }));
const ask = (messages: ChatMessage[]) => new OfflineModel().complete({ instructions: '', messages, tools, threadId: 't1', turn: 3 });

test('"and send an email to … about it" after a deletion: an email about the last thing done', async () => {
  const earlier: ChatMessage[] = [
    { role: 'user', content: 'delete the file notes.txt' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'call_1_1', name: 'delete_file', arguments: '{"path":"notes.txt"}' }] },
    { role: 'tool', toolCallId: 'call_1_1', name: 'delete_file', content: 'Deleted /home/me/.airlock/sandbox/notes.txt' },
    { role: 'assistant', content: 'Here is what happened:\n- delete_file: Deleted /home/me/.airlock/sandbox/notes.txt' },
  ];
  const answer = await ask([...earlier, { role: 'user', content: 'and send an email to ops@example.com about it' }]);
  expect(answer.toolCalls).toHaveLength(1);
  expect(answer.toolCalls![0].name).toBe('send_email');
  const args = JSON.parse(answer.toolCalls![0].arguments);
  expect(args.to).toBe('ops@example.com');
  expect(args.body).toContain('delete_file: Deleted /home/me/.airlock/sandbox/notes.txt');
});

test('"about it" with nothing done yet, and a message that opens with "then"', async () => {
  const answer = await ask([{ role: 'user', content: 'then send an email to ops@example.com about it' }]);
  expect(JSON.parse(answer.toolCalls![0].arguments)).toMatchObject({ to: 'ops@example.com', subject: 'A note' });
  const deletion = await ask([{ role: 'user', content: 'and delete the file draft.md' }]);
  expect(deletion.toolCalls![0]).toMatchObject({ name: 'delete_file', arguments: '{"path":"draft.md"}' });
});
