import type { FunctionTool, RunToolApprovalItem } from '@openai/agents';
import type { Airlock } from '../airlock.js';
import { refusal } from '../refusal.js';
import type { GuardOptions, PendingApproval, ToolCall } from '../types.js';

export interface OpenAIAgentsOptions extends Omit<GuardOptions, 'approval'> {
  /** Conversation id, for limits and audit. */
  session?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any tool, whatever its context, parameters and result
type AnyFunctionTool = FunctionTool<any, any, any>;

/**
 * The idempotency key of one tool call. The call id is what the run state keeps across an
 * interruption and a restart, so asking Airlock again with it finds the same decision.
 */
const keyOf = (callId: string | undefined): string | undefined => (callId === undefined ? undefined : `openai-agents:${callId}`);

/**
 * A run (also one restored from saved state) invokes each call once and keeps its output, so a
 * call id seen again after its call ran is a new call from a model that repeats ids: decided
 * afresh, audited and counted, never the old decision run again.
 */
const REPEAT = 'decide';

/**
 * Wraps an Agents SDK function tool: name, description, parameters and types stay as they are.
 * A call Airlock sends for approval becomes the SDK's own interruption (`needsApproval`); once a
 * person has approved it in Airlock, `state.approve(interruption)` and `run(agent, state)` run
 * exactly the approved call, with the approved arguments. A blocked call hands the model the
 * refusal as the tool's output. Each call is decided once, keyed by its call id, so a run
 * restored from `RunState.fromString` finds its approvals instead of asking anew.
 */
export function governTool<T extends AnyFunctionTool>(airlock: Airlock, tool: T, options: OpenAIAgentsOptions = {}): T {
  const { session, ...guard } = options;
  const call = (args: Record<string, unknown>): ToolCall => ({ tool: tool.name, args, session });
  const governed: AnyFunctionTool = {
    ...tool,
    needsApproval: async (context, input, callId) => {
      const verdict = await airlock.check(call(input as Record<string, unknown>), { ...guard, approval: 'return', idempotencyKey: keyOf(callId), toolCallId: callId, repeat: REPEAT });
      if (verdict.outcome === 'pending') return true;
      // A refused call needs no one's approval: invoke hands the model the refusal.
      if (verdict.outcome === 'refused') return false;
      return tool.needsApproval(context, input, callId);
    },
    invoke: async (context, input, details) => {
      const args = parseArguments(input);
      if (!args) return refusal(tool.name, 'invalid_arguments', 'the arguments are not a JSON object', null);
      // After an approved interruption this finds the approval (same key) and redeems it.
      const verdict = await airlock.check(call(args), { ...guard, approval: 'wait', idempotencyKey: keyOf(details?.toolCall?.callId), toolCallId: details?.toolCall?.callId, claim: true, repeat: REPEAT });
      return airlock.execute(verdict, (approved) => tool.invoke(context, verdict.outcome === 'run' && verdict.edited ? JSON.stringify(approved) : input, details), guard, agentsToolFailure);
    },
  };
  return governed as T;
}

/** `governTool` for each tool of an agent. */
export function governTools<T extends readonly AnyFunctionTool[]>(airlock: Airlock, tools: T, options: OpenAIAgentsOptions = {}): T {
  return tools.map((tool) => governTool(airlock, tool, options)) as unknown as T;
}

/**
 * The Airlock approval behind a run interruption, or undefined when Airlock did not ask for one
 * (the tool's own `needsApproval`). Asks again with the call's key: no new decision is made, so
 * after a restart this recovers the approval id, e.g. to show it or to resolve it locally.
 */
export async function airlockApproval(airlock: Airlock, interruption: RunToolApprovalItem, options: { session?: string } = {}): Promise<PendingApproval | undefined> {
  const raw = interruption.rawItem;
  if (raw.type !== 'function_call') return undefined;
  const args = parseArguments(raw.arguments);
  if (!args) return undefined;
  const verdict = await airlock.check({ tool: raw.name, args, session: options.session }, { approval: 'return', idempotencyKey: keyOf(raw.callId), repeat: REPEAT });
  return verdict.outcome === 'pending' ? verdict.pending : undefined;
}

/**
 * What a tool made with `tool()` answers when its function throws and its `errorFunction` is the
 * Agents SDK's default: the SDK catches the error and hands the model this fixed message, so the
 * adapter never sees the throw. That exact output is a failed call (outcome and `execute_tool`
 * span); a custom `errorFunction`'s message cannot be told from a result (use `errorFunction: null`
 * to let the error through).
 */
const AGENTS_DEFAULT_TOOL_ERROR = 'An error occurred while running the tool. Please try again.';

function agentsToolFailure(output: unknown): { class: string; message: string } | undefined {
  return output === AGENTS_DEFAULT_TOOL_ERROR ? { class: 'ToolError', message: AGENTS_DEFAULT_TOOL_ERROR } : undefined;
}

function parseArguments(input: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(input);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
