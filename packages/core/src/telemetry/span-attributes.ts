import type { Decision } from '../engine/types.js';

/** A span attribute value, as OpenTelemetry takes it (no arrays needed here). */
export type SpanAttributeValue = string | number | boolean;

/**
 * The attributes of a decision span, the same on the server and in the SDK, so a trace backend
 * can filter both by one name: `airlock.decision.*`, `airlock.policy.*`, `airlock.risk.*`,
 * `airlock.approval.id`. The tool is `gen_ai.tool.name` (OpenTelemetry GenAI semantic conventions).
 * Pure: no OpenTelemetry import, nothing from the call's arguments.
 */
export function decisionSpanAttributes(
  decision: Pick<Decision, 'effect' | 'rule' | 'reason' | 'risk' | 'policy' | 'error'> & {
    id?: string;
    approval?: { id?: string } | undefined;
    replay?: true;
  },
): Record<string, SpanAttributeValue> {
  const attributes: Record<string, SpanAttributeValue> = {
    'airlock.decision.effect': decision.effect,
    'airlock.decision.reason': decision.reason,
    'airlock.risk.score': decision.risk.score,
    'airlock.risk.level': decision.risk.level,
    'airlock.policy.bundle': decision.policy.bundle,
    'airlock.policy.version': String(decision.policy.version),
  };
  if (decision.id !== undefined) attributes['airlock.decision.id'] = decision.id;
  if (decision.rule !== null) attributes['airlock.decision.rule'] = decision.rule;
  if (decision.approval?.id !== undefined) attributes['airlock.approval.id'] = decision.approval.id;
  if (decision.error !== undefined) attributes['airlock.error.code'] = decision.error.code;
  if (decision.replay) attributes['airlock.decision.replay'] = true;
  return attributes;
}

/** Span names: one per operation, the tool in the name as GenAI's `execute_tool {tool}` does. */
export const SPAN_NAMES = {
  decision: (tool: string): string => `airlock.decide ${tool}`,
  approvalWait: 'airlock.approval.wait',
  executeTool: (tool: string): string => `execute_tool ${tool}`,
} as const;
