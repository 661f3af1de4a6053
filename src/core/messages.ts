/**
 * The thread's Temporal message contract: every signal, query and update, defined once and
 * imported by the workflow, the client, the CLI and the HTTP API.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CompactOutcome, CompactReply, ReplyOptions } from './reply-form';
import type { AgentResponse, ChatMessage, Decision, DecisionOutcome, GrantRevocation, GrantRevocationOutcome, ThreadState } from './types';

/** Send a user message and wait for the response: the agent's answer, or an interrupt that needs a person. */
export const sendMessageUpdate = defineUpdate<AgentResponse, [string]>('sendMessage');

/** Send a user message without waiting (fire-and-forget). */
export const userMessageSignal = defineSignal<[string]>('userMessage');

/** Wait until the thread settles (answered, waiting for a person, or ended) and return the response. */
export const awaitResponseUpdate = defineUpdate<AgentResponse, []>('awaitResponse');

/**
 * `sendMessage` and `awaitResponse` with the reply form the caller reads (`reply-form.ts`): the
 * same Updates, as the workflow handles them and Airlock's client sends them. Without options
 * the reply is the full `AgentResponse`. `awaitResponse`'s second argument says what the client
 * holds of the exchange already (`knowledgeOf`), which a compact reply then leaves out.
 */
export const sendMessageReplyUpdate = defineUpdate<AgentResponse | CompactReply, [string, ReplyOptions | undefined]>(sendMessageUpdate.name);
export const awaitResponseReplyUpdate = defineUpdate<AgentResponse | CompactReply, [ReplyOptions | undefined, string | undefined]>(awaitResponseUpdate.name);

/**
 * Decide an interrupt. The validator refuses a decision that does not fit (unknown interrupt,
 * already decided, timed out, approver not allowed) before anything is written to history.
 */
export const decideUpdate = defineUpdate<DecisionOutcome, [Decision]>('decide');

/** `decide` with the outcome form the caller reads (`{ form: 2 }` or newer: `compactOutcome`), as the workflow handles it and Airlock's client sends it. */
export const decideReplyUpdate = defineUpdate<DecisionOutcome | CompactOutcome, [Decision, ReplyOptions | undefined]>(decideUpdate.name);

/**
 * Decide an interrupt, fire-and-forget. Stored durably even when no worker runs; a decision that
 * does not fit is ignored by the workflow (and logged), since a signal cannot answer.
 */
export const decisionSignal = defineSignal<[Decision]>('decision');

/** Revoke a grant: later calls are asked about again. The outcome says whether it was revoked or refused, and why. */
export const revokeGrantUpdate = defineUpdate<GrantRevocationOutcome, [GrantRevocation]>('revokeGrant');

/** End the thread once it is idle. Later messages are refused. */
export const endThreadSignal = defineSignal<[]>('endThread');

/** The thread's state: messages, status, interrupts. */
export const getStateQuery = defineQuery<ThreadState>('getState');

/** The conversation's messages `[from, to)`: what the model activity reads instead of receiving the whole conversation each turn. */
export const conversationQuery = defineQuery<ChatMessage[], [number, number]>('conversation');
