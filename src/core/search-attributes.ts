/**
 * Search attributes the thread keeps up to date, so that visibility (the pending-approvals inbox,
 * the Web UI's list) never needs to read every thread's state. Register them on the server first.
 */
import { defineSearchAttributeKey } from '@temporalio/common';

/** `idle`, `running`, `awaiting_approval` or `ended`. */
export const AirlockStatus = defineSearchAttributeKey('AirlockStatus', 'KEYWORD');
/** The agent's name. */
export const AirlockAgent = defineSearchAttributeKey('AirlockAgent', 'KEYWORD');
/** Tool names of the interrupts waiting for a decision. */
export const AirlockPendingTools = defineSearchAttributeKey('AirlockPendingTools', 'KEYWORD_LIST');
/** When the oldest waiting interrupt was created. */
export const AirlockPendingSince = defineSearchAttributeKey('AirlockPendingSince', 'DATETIME');
/** The earliest deadline among waiting interrupts. */
export const AirlockNextDeadline = defineSearchAttributeKey('AirlockNextDeadline', 'DATETIME');

export const airlockSearchAttributes = [
  AirlockStatus,
  AirlockAgent,
  AirlockPendingTools,
  AirlockPendingSince,
  AirlockNextDeadline,
] as const;

const CLI_TYPE_NAMES = {
  KEYWORD: 'Keyword',
  KEYWORD_LIST: 'KeywordList',
  DATETIME: 'Datetime',
} as const;

/** `--search-attribute Name=Type` values for `temporal server start-dev`. */
export function searchAttributeCliArgs(): string[] {
  return airlockSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPE_NAMES[key.type]}`]);
}
