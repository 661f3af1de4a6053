/**
 * Visibility listings that one unreadable thread cannot break. The SDK's `client.workflow.list()`
 * decodes every listed memo and ends the whole listing at the first it cannot decode — a memo
 * encrypted under a key this client lacks, or written by something else entirely. Here each
 * thread's memo is decoded on its own; a thread whose memo cannot be read is reported, not fatal.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/** A listed thread: its id, its raw listing entry, and its memo read by `readMemo`. */
export interface ListedThread {
  workflowId: string;
  raw: temporal.api.workflow.v1.IWorkflowExecutionInfo;
}

/** Every execution the query matches, page by page, memo left encoded. */
export async function* listThreads(client: Client, query: string, pageSize?: number): AsyncGenerator<ListedThread> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const response = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize, nextPageToken });
    for (const raw of response.executions) {
      if (raw.execution?.workflowId) yield { workflowId: raw.execution.workflowId, raw };
    }
    nextPageToken = response.nextPageToken?.length ? response.nextPageToken : undefined;
  } while (nextPageToken);
}

/**
 * One memo field of a listed thread, decoded by the client's codecs and payload converter.
 * @throws Error when the field cannot be decoded (a key this client lacks, a foreign encoding)
 */
export async function readMemo(client: Client, thread: ListedThread, key: string): Promise<unknown> {
  const payload = thread.raw.memo?.fields?.[key];
  if (!payload) return undefined;
  const converter = client.options.loadedDataConverter;
  let decoded: Payload[] = [payload as Payload];
  for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return converter.payloadConverter.fromPayload(decoded[0]);
}

/** A search attribute of a listed thread (search attributes are never encoded). */
export function readSearchAttribute(thread: ListedThread, name: string): unknown {
  const payload = thread.raw.searchAttributes?.indexedFields?.[name];
  if (!payload) return undefined;
  try {
    const value = defaultPayloadConverter.fromPayload(payload as Payload);
    return Array.isArray(value) && value.length === 1 ? value[0] : value;
  } catch {
    return undefined;
  }
}
