export { defineTool, toToolSchema } from './define-tool';
export type { Tool, ToolContext } from './define-tool';
export { createDeleteFileTool, createMakePaymentTool, createSendEmailTool } from './example-tools';
export { ToolError } from './tool-error';
