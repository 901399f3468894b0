import { asSchema, type Tool, type ToolApprovalResponse, type ToolExecutionOptions, type ToolSet } from 'ai';
import type { Airlock, Guarded } from '../airlock.js';
import { approvalRefusal, refusal } from '../refusal.js';
import type { GuardOptions, ToolCall, Verdict } from '../types.js';

export interface AiSdkOptions extends Omit<GuardOptions, 'approval'> {
  /**
   * `wait` (default) or `return`: as in GuardOptions, inside the tool's `execute`.
   * `native`: ai's own approval flow. A call Airlock sends for approval stops the step with a
   * `tool-approval-request`; once a person has decided in Airlock, `approvalResponses()` turns
   * the decisions into `tool-approval-response` parts, and the next `generateText` runs the
   * approved call with the approved arguments.
   */
  approval?: 'wait' | 'return' | 'native';
  /** Conversation id, for limits and audit. */
  session?: string;
}

/** The tool set as the model sees it, each tool's result widened to what Airlock may answer instead. */
export type GovernedTools<T extends ToolSet> = {
  [K in keyof T]: T[K] extends Tool<infer I, infer O> ? Tool<I, Guarded<O>> : T[K];
};

type Input = Record<string, unknown>;

/** The idempotency key of one ai tool call: the framework's call id decides the call once. */
const keyOf = (toolCallId: string): string => `ai:${toolCallId}`;

/**
 * ai never runs a tool call whose result it has, so a call id seen again after its call ran is a
 * new call from a model that repeats ids (test models, some providers): decided afresh, audited
 * and counted, never the old decision run again.
 */
const REPEAT = 'decide';

/**
 * Wraps an ai tool set: descriptions, input schemas and types stay as they are, so the model sees
 * the same tools; `execute` runs only when Airlock allows the call or a person approved it, and
 * then with the approved arguments. Tools without `execute` (run by the client or the provider)
 * are passed through unchanged: nothing runs them in this process.
 */
export function governTools<T extends ToolSet>(airlock: Airlock, tools: T, options: AiSdkOptions = {}): GovernedTools<T> {
  const governed: Record<string, unknown> = {};
  for (const [name, tool] of Object.entries(tools)) governed[name] = tool.execute ? governTool(airlock, name, tool, options) : tool;
  return governed as GovernedTools<T>;
}

function governTool(airlock: Airlock, name: string, tool: Tool, options: AiSdkOptions): Tool {
  const { approval = 'wait', session, ...guard } = options;
  const execute = tool.execute as (input: unknown, execution: ToolExecutionOptions) => unknown;
  const call = (input: unknown): ToolCall => ({ tool: name, args: input as Input, session });
  const ownOutput = tool.toModelOutput;
  const governed: Tool = {
    ...tool,
    // In native mode the approval happened in ai's flow before execute: here Airlock is asked
    // again with the same key, finds the approval it opened, and redeems it.
    execute: async (input: unknown, execution: ToolExecutionOptions) => {
      const checked = await airlock.check(call(input), {
        ...guard,
        approval: approval === 'native' ? 'wait' : approval,
        idempotencyKey: keyOf(execution.toolCallId),
        toolCallId: execution.toolCallId,
        claim: true,
        repeat: REPEAT,
      });
      const verdict = checked.outcome === 'run' && checked.edited ? await fitSchema(tool, name, checked) : checked;
      return airlock.execute(verdict, (args) => execute(args, execution), guard);
    },
    // A tool's own toModelOutput expects its own results: Airlock's answers go to the model as JSON.
    ...(ownOutput ? { toModelOutput: (output) => (isAirlockAnswer(output.output) ? { type: 'json', value: output.output } : ownOutput(output)) } : {}),
  } as Tool;
  if (approval === 'native') {
    const own = tool.needsApproval;
    governed.needsApproval = async (input, context) => {
      const verdict = await airlock.check(call(input), { ...guard, approval: 'return', idempotencyKey: keyOf(context.toolCallId), repeat: REPEAT });
      if (verdict.outcome === 'pending') return true;
      // A refused call needs no one's approval: execute hands the model the refusal.
      if (verdict.outcome === 'refused' || own === undefined) return false;
      return typeof own === 'boolean' ? own : own(input, context);
    };
  }
  return governed;
}

/** An approver may edit arguments: they must still fit the tool's schema before the tool sees them. */
async function fitSchema(tool: Tool, name: string, verdict: Extract<Verdict, { outcome: 'run' }>): Promise<Verdict> {
  const schema = asSchema(tool.inputSchema);
  if (!schema.validate) return verdict;
  const result = await schema.validate(verdict.args);
  if (result.success) return { ...verdict, args: result.value as Input };
  const reason = `the approved arguments do not fit ${name}'s input schema: ${result.error.message}`;
  return { outcome: 'refused', refusal: refusal(name, 'invalid_arguments', reason, verdict.decision?.rule ?? null, verdict.decision?.id) };
}

function isAirlockAnswer(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { airlock?: unknown }).airlock === 'string';
}

/** The part of a `generateText` result this needs: its content, with the approval requests. */
interface ApprovalRequestPart {
  type: string;
  approvalId?: string;
  toolCall?: { toolCallId: string; toolName: string; input: unknown };
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

/**
 * For `approval: 'native'`: Airlock's answer to each `tool-approval-request` in a step's content,
 * as ai `tool-approval-response` parts to send with the next `generateText`. Waits (for all
 * requests at once) up to `timeoutMs`, default 5 minutes, for a person; an approval still open
 * then is answered "not approved", as in `wait` mode. Requests Airlock did not open (a tool's
 * own `needsApproval`) are left to the application.
 */
export async function approvalResponses(
  airlock: Airlock,
  content: readonly ApprovalRequestPart[],
  options: { timeoutMs?: number; session?: string } = {},
): Promise<ToolApprovalResponse[]> {
  const answers = await Promise.all(content.map((part) => answer(airlock, part, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.session)));
  return answers.filter((response) => response !== undefined);
}

async function answer(airlock: Airlock, part: ApprovalRequestPart, timeoutMs: number, session: string | undefined): Promise<ToolApprovalResponse | undefined> {
  if (part.type !== 'tool-approval-request' || !part.approvalId || !part.toolCall) return undefined;
  const { approvalId } = part;
  const { toolCallId, toolName, input } = part.toolCall;
  const response = (approved: boolean, reason?: string): ToolApprovalResponse => ({ type: 'tool-approval-response', approvalId, approved, ...(reason ? { reason } : {}) });
  const verdict = await airlock.check({ tool: toolName, args: input as Input, session }, { approval: 'return', idempotencyKey: keyOf(toolCallId), repeat: REPEAT });
  if (verdict.outcome === 'run') return undefined;
  if (verdict.outcome === 'refused') return response(false, verdict.refusal.reason);
  try {
    const notApproved = approvalRefusal(toolName, await airlock.transport.waitForApproval(verdict.pending.approvalId, timeoutMs));
    return notApproved ? response(false, notApproved.reason) : response(true);
  } catch (error) {
    return response(false, `Airlock could not be asked about ${toolName}: ${(error as Error).message}`);
  }
}
