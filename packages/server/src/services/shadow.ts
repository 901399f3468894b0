import { Replay, type Decision, type DecisionRequest, type ReplayReport } from '@airlock/core';
import type { Clock } from '../clock.js';
import { AirlockError, notFound } from '../errors.js';
import type { AuditEntry, AuditWriter } from '../audit/writer.js';
import type { Store } from '../store/store.js';
import type { PolicyService, PolicyVersionView } from './policies.js';

export interface ShadowReport extends ReplayReport {
  version: number;
  /** When shadowing began (ISO). */
  since: string;
}

/** What a shadowed decision would have been, when it differs from the enforced one. */
export interface ShadowFlip {
  version: number;
  candidate: Pick<Decision, 'effect' | 'rule' | 'reason'>;
}

const EXAMPLES_PER_FLIP = 5;

/**
 * Shadow mode: a candidate version decides every live call beside the active one, with its own
 * limit state, and enforces nothing. Each disagreement is recorded in the audit trail with the
 * decision it shadows (`shadow.flip`), and counted by the candidate's deciding rule; promoting
 * activates the candidate in one step. The shadow is held by this instance (with several
 * instances, start it on each, or read the `shadow.flip` records of the shared trail).
 */
export class ShadowService {
  private current: { version: number; since: number; replay: Replay } | undefined;

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
  ) {}

  async start(actor: string, version: number): Promise<ShadowReport> {
    const row = await this.store.getPolicyVersion(version);
    if (!row) throw notFound(`policy version ${version}`);
    const replay = new Replay(this.policies.parse(row.bundle, JSON.parse(row.sources) as Parameters<PolicyService['parse']>[1]), {
      version,
      examplesPerFlip: EXAMPLES_PER_FLIP,
    });
    const at = this.clock.now();
    await this.writer.append([{ record: { type: 'policy.shadow_started', at, actor, data: { version, previous: this.current?.version ?? null } } }]);
    this.current = { version, since: at, replay };
    return this.reportOf(this.current);
  }

  async stop(actor: string): Promise<{ stopped: number | null }> {
    const current = this.current;
    if (!current) return { stopped: null };
    const report = current.replay.report();
    await this.writer.append([
      { record: { type: 'policy.shadow_stopped', at: this.clock.now(), actor, data: { version: current.version, calls: report.calls, flipped: report.flipped } } },
    ]);
    this.current = undefined;
    return { stopped: current.version };
  }

  /** Activates the shadowed version and ends the shadow. */
  async promote(actor: string): Promise<PolicyVersionView> {
    const current = this.current;
    if (!current) throw new AirlockError('invalid_request', 'no version is being shadowed');
    const activated = await this.policies.activate(actor, current.version);
    await this.stop(actor);
    return activated;
  }

  report(): ShadowReport | null {
    return this.current ? this.reportOf(this.current) : null;
  }

  /**
   * Decides the live call with the candidate (synchronously, its own limit state) and returns the
   * audit entry of the disagreement, if there is one. Never changes the enforced decision; a
   * candidate that fails to decide is an engine error of the candidate, recorded as such.
   */
  observe(request: DecisionRequest & { at: number }, decision: Decision, decisionId: string): AuditEntry | undefined {
    const current = this.current;
    if (!current) return undefined;
    const candidate = current.replay.add({ request, effect: decision.effect, rule: decision.rule, id: decisionId });
    if (candidate.effect === decision.effect) return undefined;
    return {
      record: {
        type: 'shadow.flip',
        at: request.at,
        actor: 'system',
        agent: request.agent,
        tool: request.tool,
        effect: candidate.effect,
        rule: candidate.rule,
        data: {
          decision: decisionId,
          version: current.version,
          active: { effect: decision.effect, rule: decision.rule },
          candidate: { effect: candidate.effect, rule: candidate.rule, reason: candidate.reason },
        },
      },
    };
  }

  private reportOf(current: { version: number; since: number; replay: Replay }): ShadowReport {
    return { version: current.version, since: new Date(current.since).toISOString(), ...current.replay.report() };
  }
}
