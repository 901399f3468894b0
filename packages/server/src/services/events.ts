import type { AnomalyAlert } from './anomaly-alerts.js';
import type { ApprovalView } from './approval-view.js';
import type { RefusalCause } from './refusal-cause.js';

/** A decision as the live feed shows it; the audit record has the rest. */
export interface DecisionEvent {
  id: string;
  seq: number;
  at: string;
  agent: string;
  role: string;
  environment: string;
  tool: string;
  args: Record<string, unknown>;
  effect: string;
  rule: string | null;
  reason: string;
  risk: { score: number; level: string };
  /** What decided it (refusal-cause.ts): for a block, why the call was refused. */
  cause: RefusalCause;
  policyVersion: number | string;
  approvalId?: string;
  /** Where the approval stands (later changes arrive as `approval` events). */
  approvalStatus?: string;
  /** Allowed in-process by an edge SDK and reported afterwards. */
  edge?: boolean;
}

/** Outcomes of one agent's calls recorded (POST /v1/outcomes), or refused as a second report: what its trail accounts for changed. */
export interface OutcomeEvent {
  agent: string;
  /** The decisions whose outcome was recorded, or reported again. */
  decisions: string[];
}

export interface PolicyEvent {
  version: number;
  digest: string;
  bundle: string;
  sources: { file: string; text: string }[];
}

export type AirlockEvent =
  | { type: 'decision'; data: DecisionEvent }
  | { type: 'approval'; data: ApprovalView }
  | { type: 'outcome'; data: OutcomeEvent }
  | { type: 'policy'; data: PolicyEvent }
  | { type: 'anomaly'; data: AnomalyAlert }
  | { type: 'pause'; data: { id: string } }
  /** An agent key was revoked (or rotated away): every instance drops it from its key cache. */
  | { type: 'key'; data: { id: string } }
  /** Audit records up to `seq` are committed: streams and the forwarder read the store again. */
  | { type: 'audit'; data: { seq: number } };

export type EventType = AirlockEvent['type'];

/**
 * Live events inside one process. An interface so several instances can share a bus (Redis) later
 * without touching the publishers.
 */
export interface EventBus {
  publish(event: AirlockEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(types: readonly EventType[], listener: (event: AirlockEvent) => void): () => void;
  /** Lets publishers skip building events nobody listens to. */
  hasSubscribers(type: EventType): boolean;
}

export class MemoryEventBus implements EventBus {
  private readonly listeners = new Map<EventType, Set<(event: AirlockEvent) => void>>();

  publish(event: AirlockEvent): void {
    const set = this.listeners.get(event.type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch {
        // One broken subscriber (e.g. a closed socket) must not stop delivery to the others.
      }
    }
  }

  subscribe(types: readonly EventType[], listener: (event: AirlockEvent) => void): () => void {
    for (const type of types) {
      let set = this.listeners.get(type);
      if (!set) {
        set = new Set();
        this.listeners.set(type, set);
      }
      set.add(listener);
    }
    return () => {
      for (const type of types) this.listeners.get(type)?.delete(listener);
    };
  }

  hasSubscribers(type: EventType): boolean {
    return (this.listeners.get(type)?.size ?? 0) > 0;
  }
}
