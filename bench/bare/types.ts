/** What the bare workflow and its activities exchange. */
export interface BareMessage {
  role: 'user' | 'assistant' | 'tool';
  content: string;
  toolCall?: { name: string; arguments: string };
}

export interface BareActivities {
  /** One model turn over the whole conversation (the offline model). */
  bareModel(messages: BareMessage[]): Promise<BareMessage>;
  /** The tool: reports when it started, touches nothing. */
  bareTool(threadId: string, args: string): Promise<string>;
}
