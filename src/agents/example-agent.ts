import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDeleteFileTool, createSendEmailTool } from '../tools';
import { defineAgent } from './define-agent';

/** Where the example agent may act: a sandbox folder for `delete_file`, an outbox file for `send_email`. */
export interface ExampleAgentOptions {
  sandboxDir: string;
  /** Default: `outbox.jsonl` next to the sandbox folder. */
  outboxFile?: string;
  /** The ledger of deletions, outside the sandbox. Default: `deletions.jsonl` next to the sandbox folder. */
  deletionsFile?: string;
}

/** The example assistant: `delete_file` and `send_email`, both protected, as in the seed. */
export function createExampleAgent({ sandboxDir, outboxFile, deletionsFile }: ExampleAgentOptions) {
  const besideSandbox = (name: string) => path.join(path.dirname(path.resolve(sandboxDir)), name);
  return defineAgent({
    name: 'assistant',
    instructions: 'You are a helpful assistant that can delete files and send emails.',
    tools: [
      createDeleteFileTool(sandboxDir, { ledgerFile: deletionsFile ?? besideSandbox('deletions.jsonl') }),
      createSendEmailTool(outboxFile ?? besideSandbox('outbox.jsonl')),
    ],
    interrupts: {
      delete_file: { allowAuto: false, note: 'File deletion is irreversible', confirm: true },
      send_email: { allowAuto: false, note: 'External communication requires review' },
    },
  });
}

const SAMPLE_FILES: Record<string, string> = {
  'notes.txt': 'Meeting notes: ship the approval inbox on Friday.\n',
  'old-report.csv': 'month,revenue\n2026-01,100\n',
  'draft.md': '# Draft\nNothing to see yet.\n',
};

/**
 * The example agent acting in `<home>/sandbox` (created with a few sample files when missing)
 * and `<home>/outbox.jsonl`, recording deletions in `<home>/deletions.jsonl`.
 */
export function prepareExampleAgent(home: string) {
  const sandboxDir = path.join(home, 'sandbox');
  const outboxFile = path.join(home, 'outbox.jsonl');
  const deletionsFile = path.join(home, 'deletions.jsonl');
  mkdirSync(sandboxDir, { recursive: true });
  for (const [name, text] of Object.entries(SAMPLE_FILES)) {
    if (!existsSync(path.join(sandboxDir, name))) writeFileSync(path.join(sandboxDir, name), text);
  }
  return { agent: createExampleAgent({ sandboxDir, outboxFile, deletionsFile }), sandboxDir, outboxFile, deletionsFile, sampleFiles: Object.keys(SAMPLE_FILES) };
}
