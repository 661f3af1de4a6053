import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDeleteFileTool, createMakePaymentTool, createSendEmailTool } from '../tools';
import { defineAgent, type PolicyVerdict } from './define-agent';

/** Where the example agent may act: a sandbox folder for `delete_file`, an outbox file for `send_email`. */
export interface ExampleAgentOptions {
  sandboxDir: string;
  /** Default: `outbox.jsonl` next to the sandbox folder. */
  outboxFile?: string;
  /** The ledger of deletions, outside the sandbox. Default: `deletions.jsonl` next to the sandbox folder. */
  deletionsFile?: string;
  /** The ledger of payments. Default: `payments.jsonl` next to the sandbox folder. */
  paymentsFile?: string;
}

/** Payments up to this run without asking; above it a person approves, and above `FINANCE_ABOVE` only finance. */
export const PAYMENT_AUTO_LIMIT = 100;
export const FINANCE_ABOVE = 1_000;

const euros = (amount: number) => amount.toLocaleString('en-US');

/** The example's conditional policy: small payments run, larger ones need a person, large ones finance. */
export function reviewPayment({ amount }: { amount: number }): PolicyVerdict {
  if (amount <= PAYMENT_AUTO_LIMIT) return { ask: false, reason: `amount ${euros(amount)} is at most ${euros(PAYMENT_AUTO_LIMIT)}` };
  if (amount <= FINANCE_ABOVE) return { ask: true, reason: `amount ${euros(amount)} exceeds ${euros(PAYMENT_AUTO_LIMIT)}` };
  return { ask: true, reason: `amount ${euros(amount)} exceeds ${euros(FINANCE_ABOVE)}: finance approves`, approvers: ['finance'] };
}

/**
 * The example assistant: `delete_file` and `send_email`, both protected, as in the seed, and
 * `make_payment`, whose policy looks at the amount.
 */
export function createExampleAgent({ sandboxDir, outboxFile, deletionsFile, paymentsFile }: ExampleAgentOptions) {
  const besideSandbox = (name: string) => path.join(path.dirname(path.resolve(sandboxDir)), name);
  return defineAgent({
    name: 'assistant',
    instructions: 'You are a helpful assistant that can delete files and send emails.',
    tools: [
      createDeleteFileTool(sandboxDir, { ledgerFile: deletionsFile ?? besideSandbox('deletions.jsonl') }),
      createSendEmailTool(outboxFile ?? besideSandbox('outbox.jsonl')),
      createMakePaymentTool(paymentsFile ?? besideSandbox('payments.jsonl')),
    ],
    interrupts: {
      delete_file: { allowAuto: false, note: 'File deletion is irreversible', confirm: true },
      send_email: { allowAuto: false, note: 'External communication requires review' },
      make_payment: { allowAuto: false, note: 'Payments move money', review: reviewPayment, grants: false },
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
  const paymentsFile = path.join(home, 'payments.jsonl');
  mkdirSync(sandboxDir, { recursive: true });
  for (const [name, text] of Object.entries(SAMPLE_FILES)) {
    if (!existsSync(path.join(sandboxDir, name))) writeFileSync(path.join(sandboxDir, name), text);
  }
  return {
    agent: createExampleAgent({ sandboxDir, outboxFile, deletionsFile, paymentsFile }),
    sandboxDir,
    outboxFile,
    deletionsFile,
    paymentsFile,
    sampleFiles: Object.keys(SAMPLE_FILES),
  };
}
