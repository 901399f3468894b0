import { parseBundle, suggestThresholds, type ApprovalEvidence, type ApprovalVerdict, type PolicySource, type ThresholdSuggestion } from '@airlock/core';
import type { Clock } from '../clock.js';
import type { ApprovalOutcomeRow, Store } from '../store/store.js';
import type { PolicyService } from './policies.js';
import { filePatch } from './bounded-patch.js';

export interface SuggestionView extends Omit<ThresholdSuggestion, 'change'> {
  /** Unified diff of the one policy file the suggestion edits. */
  patch: string;
  /** The whole candidate bundle: the active version with that file edited, ready to simulate or upload. */
  candidate: { name: string; files: PolicySource[] };
}

export interface SuggestionsReport {
  from: string;
  to: string;
  /** The active version the suggestions edit (null: none is active, so nothing to suggest). */
  version: number | null;
  /** Approvals the suggestions were computed from (created in the window). */
  approvals: number;
  suggestions: SuggestionView[];
}

/**
 * How one approval ended, as evidence for trust. Granted by a person as asked: `approved`;
 * granted with edited arguments: `edited`; `denied`; anything else (pending, expired untouched,
 * a timeout fallback by the system) says nothing about the call and is `undecided`.
 */
export function verdictOf(row: Pick<ApprovalOutcomeRow, 'status' | 'resolved_by' | 'edited_args'>): ApprovalVerdict {
  if (row.status === 'denied') return 'denied';
  const byPerson = row.resolved_by !== null && row.resolved_by !== 'system';
  if (!byPerson || !['approved', 'redeemed', 'expired'].includes(row.status)) return 'undecided';
  return row.edited_args === null ? 'approved' : 'edited';
}

/** Progressive-trust suggestions over the active version, from the approvals of a time window. Never applies anything. */
export class TrustService {
  constructor(
    private readonly store: Store,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
  ) {}

  async suggestions(window: { fromMs?: number; toMs?: number; sinceMs?: number }): Promise<SuggestionsReport> {
    const toMs = window.toMs ?? this.clock.now() + 1;
    const fromMs = window.fromMs ?? toMs - (window.sinceMs ?? 30 * 86_400_000);
    const active = this.policies.active();
    if (!active) return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), version: null, approvals: 0, suggestions: [] };
    const rows = await this.store.approvalOutcomes({ fromMs, toMs });
    const evidence: ApprovalEvidence[] = rows.map((row) => ({
      rule: row.rule,
      tool: row.tool,
      agent: row.agent,
      role: row.role,
      environment: row.environment,
      args: JSON.parse(row.args) as Record<string, unknown>,
      verdict: verdictOf(row),
      at: Number(row.created_at),
    }));
    const detail = await this.policies.get(active.version);
    const bundle = parseBundle(detail.sources, detail.bundle);
    const days = Math.max(1, Math.round((toMs - fromMs) / 86_400_000));
    const suggestions = suggestThresholds(bundle, evidence).map(({ change, ...suggestion }) => ({
      ...suggestion,
      message: `${suggestion.message.replace(/\?$/, '')} (evidence: the last ${days} days)?`,
      patch: filePatch(change.file, change.before, change.after, `version ${active.version}`, 'suggested'),
      candidate: { name: detail.bundle, files: detail.sources.map((s) => (s.file === change.file ? { file: s.file, text: change.after } : s)) },
    }));
    return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), version: active.version, approvals: rows.length, suggestions };
  }
}
