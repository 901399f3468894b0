import { ToolMessage, type ToolCall as LangChainToolCall } from '@langchain/core/messages';
import type { StructuredToolInterface, ToolRunnableConfig } from '@langchain/core/tools';
import type { Airlock } from '../airlock.js';
import type { GuardOptions, Verdict } from '../types.js';

export interface LangChainOptions extends GuardOptions {
  /** Conversation id, for limits and audit. */
  session?: string;
}

type Args = Record<string, unknown>;

/**
 * Wraps a LangChain tool (a StructuredTool, or what `tool()` returns): name, description, schema
 * and type are the original's, so `bindTools` shows the model the same tool; every call goes
 * through Airlock first and runs only when allowed or approved, with the approved arguments.
 * Called with a tool call (as agents do), a refusal or pending approval comes back as the
 * ToolMessage the model reads. A tool call id makes the call's idempotency key, so a graph that
 * re-runs a step after an interruption finds the same decision and approval.
 */
export function governTool<T extends StructuredToolInterface>(airlock: Airlock, tool: T, options: LangChainOptions = {}): T {
  const { session, ...guard } = options;
  // The governed tool inherits every property from the original and overrides `call`, the one
  // method that `invoke`, `stream` and `batch` all end in.
  const governed = Object.create(tool) as T;
  const call = async (input: unknown, config?: ToolRunnableConfig, tags?: string[]): Promise<unknown> => {
    const toolCall = isToolCall(input) ? input : undefined;
    const id = toolCall?.id ?? config?.toolCall?.id;
    const raw: unknown = toolCall ? toolCall.args : input;
    // String tools (DynamicTool) take `{ input }` as their structured form.
    const args = (typeof raw === 'string' ? { input: raw } : raw) as Args;
    const verdict = await airlock.check({ tool: tool.name, args, session }, { ...guard, idempotencyKey: keyOf(id, config), toolCallId: id, claim: true });
    const output = await airlock.execute(verdict, (approved: Args) => {
      const runWith = verdict.outcome === 'run' && verdict.edited ? approved : raw;
      return tool.call((toolCall ? { ...toolCall, args: runWith } : runWith) as Parameters<T['call']>[0], config, tags);
    }, guard);
    return id === undefined ? output : toolMessage(output, verdict, id, tool.name);
  };
  governed.call = call as T['call'];
  return governed;
}

/**
 * The idempotency key of one tool call: its id, within its LangGraph thread when there is one.
 * A graph resumed after an interruption re-runs the node, tool calls that already ran included:
 * within a thread, a call id whose decision already ran is the same call, and is refused
 * `already_ran` instead of running twice. Another thread (another conversation) is another key,
 * so ids a model repeats there are decided afresh.
 */
function keyOf(id: string | undefined, config: ToolRunnableConfig | undefined): string | undefined {
  if (id === undefined) return undefined;
  const thread: unknown = config?.configurable?.thread_id;
  return typeof thread === 'string' || typeof thread === 'number' ? `langchain:${String(thread)}:${id}` : `langchain:${id}`;
}

/** `governTool` for each tool of an agent. */
export function governTools<T extends readonly StructuredToolInterface[]>(airlock: Airlock, tools: T, options: LangChainOptions = {}): T {
  return tools.map((tool) => governTool(airlock, tool, options)) as unknown as T;
}

/** What Airlock answered instead of (or around) the tool's own message, as the ToolMessage the model reads. */
function toolMessage(output: unknown, verdict: Verdict, toolCallId: string, name: string): unknown {
  if (verdict.outcome === 'run' && !verdict.edited) return output;
  if (verdict.outcome === 'run') {
    const { result } = output as { result: unknown };
    // A graph command or other direct output is not a message to rewrite.
    if (!ToolMessage.isInstance(result)) return output;
    const content = JSON.stringify({ airlock: 'approved_with_changes', args: verdict.args, result: result.content });
    return new ToolMessage({ content, tool_call_id: toolCallId, name, artifact: result.artifact, status: result.status });
  }
  return new ToolMessage({ content: JSON.stringify(output), tool_call_id: toolCallId, name, status: verdict.outcome === 'refused' ? 'error' : 'success' });
}

function isToolCall(value: unknown): value is LangChainToolCall {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'tool_call';
}
