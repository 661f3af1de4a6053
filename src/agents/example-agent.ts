import path from 'node:path';
import { createDeleteFileTool, createSendEmailTool } from '../tools';
import { defineAgent } from './define-agent';

/** Where the example agent may act: a sandbox folder for `delete_file`, an outbox file for `send_email`. */
export interface ExampleAgentOptions {
  sandboxDir: string;
  outboxFile?: string;
}

/** The example assistant: `delete_file` and `send_email`, both protected, as in the seed. */
export function createExampleAgent({ sandboxDir, outboxFile = path.join(path.dirname(path.resolve(sandboxDir)), 'outbox.jsonl') }: ExampleAgentOptions) {
  return defineAgent({
    name: 'assistant',
    instructions: 'You are a helpful assistant that can delete files and send emails.',
    tools: [createDeleteFileTool(sandboxDir), createSendEmailTool(outboxFile)],
    interrupts: {
      delete_file: { allowAuto: false, note: 'File deletion is irreversible' },
      send_email: { allowAuto: false, note: 'External communication requires review' },
    },
  });
}
