import { isScalar, parseDocument, type Scalar } from 'yaml';
import { Engine } from '../engine/engine.js';
import { parseBundle, type LoadedPolicy, type PolicyBundle, type PolicySource } from '../policy/load.js';
import type { PolicyDocument } from '../policy/document.js';

/**
 * Progressive trust: evidence from approval history for loosening a policy, never applied by
 * itself. The first kind of suggestion is the one graduated thresholds invite: a `require_approval`
 * rule that starts where an `allow` rule on the same argument ends (`amount <= 50` / `amount > 50`),
 * whose approvals just above the boundary people grant nearly always. The suggestion raises the
 * boundary as far as the evidence reaches, as an edit of the policy file (only the two numbers
 * change), checked by deciding every call of the evidence with the edited bundle.
 */

/** How one approval ended, as far as trust is concerned. */
export type ApprovalVerdict =
  /** A person granted it as asked. */
  | 'approved'
  /** A person granted it with changed arguments: the call as asked was not acceptable. */
  | 'edited'
  | 'denied'
  /** Nobody decided (expired, or a timeout fallback): no evidence either way. */
  | 'undecided';

export interface ApprovalEvidence {
  /** The rule that asked for the approval (null: a risk tier or a default). */
  rule: string | null;
  tool: string;
  agent: string;
  role: string;
  environment: string;
  args: Record<string, unknown>;
  verdict: ApprovalVerdict;
  /** Epoch ms the approval was requested. */
  at: number;
}

export interface SuggestOptions {
  /** Fewest decided approvals a suggestion may rest on. Default 20. */
  minSamples?: number;
  /** Smallest share of decided approvals granted as asked, in the whole range and in its upper half. Default 0.95. */
  minApprovalRate?: number;
}

export interface ThresholdEvidence {
  approved: number;
  edited: number;
  denied: number;
  undecided: number;
  /** Lowest and highest argument value among them. */
  lowest: number;
  highest: number;
  /** Of the evidence, calls the edited bundle allows (the rest still go to approval for other reasons). */
  wouldAllow: number;
}

export interface ThresholdSuggestion {
  kind: 'raise_allow_threshold';
  id: string;
  policy: string;
  file: string;
  tool: string;
  /** The numeric argument the two rules split on. */
  argument: string;
  allowRule: string;
  approvalRule: string;
  from: number;
  to: number;
  evidence: ThresholdEvidence;
  /** One sentence for people. */
  message: string;
  /** What the edit does not change and a person should: e.g. a rule's `reason` that names the old number. */
  review: string[];
  /** The policy file before and after the edit (the rest of the bundle is unchanged). */
  change: { file: string; before: string; after: string };
}

type Bound = { op: '<' | '<=' | '>' | '>='; value: number; literal: string };

const NUMBER = String.raw`(-?\d+(?:\.\d+)?)`;

function boundsOf(condition: string, argument: string, ops: readonly string[]): Bound[] {
  const name = argument.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(String.raw`\bargs\.${name}\s*(<=|>=|<|>)\s*${NUMBER}(?![\w.])`, 'g');
  const found: Bound[] = [];
  for (const match of condition.matchAll(pattern)) {
    const op = match[1] as Bound['op'];
    if (ops.includes(op)) found.push({ op, value: Number(match[2]), literal: match[2] as string });
  }
  return found;
}

interface RulePair {
  policy: LoadedPolicy;
  tool: string;
  argument: string;
  allowIndex: number;
  approvalIndex: number;
  allowBound: Bound;
  approvalBound: Bound;
  /** The approval rule's own upper bound on the argument, if any: the threshold never passes it. */
  ceiling: number | undefined;
}

/** An allow rule ending where an approval rule on the same tool and argument begins. */
function rulePairs(policy: LoadedPolicy): RulePair[] {
  const rules = policy.document.rules ?? [];
  const pairs: RulePair[] = [];
  rules.forEach((approval, approvalIndex) => {
    if (approval.effect !== 'require_approval' || typeof approval.tool !== 'string' || !approval.when) return;
    for (const match of approval.when.matchAll(/\bargs\.([A-Za-z_][A-Za-z0-9_]*)\s*(>=|>)/g)) {
      const argument = match[1] as string;
      const lower = boundsOf(approval.when, argument, ['>', '>='])[0];
      if (!lower) continue;
      rules.forEach((allow, allowIndex) => {
        if (allow.effect !== 'allow' || allow.tool !== approval.tool || !allow.when) return;
        const upper = boundsOf(allow.when, argument, ['<', '<='])[0];
        // Adjacent: `<= c` with `> c`, or `< c` with `>= c`.
        if (!upper || upper.value !== lower.value || (upper.op === '<=') !== (lower.op === '>')) return;
        const ceiling = boundsOf(approval.when as string, argument, ['<', '<=']).map((b) => b.value)[0];
        pairs.push({ policy, tool: approval.tool as string, argument, allowIndex, approvalIndex, allowBound: upper, approvalBound: lower, ceiling });
      });
    }
  });
  return pairs;
}

/** The largest "round" number at or below `value` with two significant digits (79.99 → 79, 1234 → 1200). */
export function roundDown(value: number): number {
  if (value <= 0) return value;
  const step = 10 ** (Math.floor(Math.log10(value)) - 1);
  return Math.floor(value / step + 1e-9) * step;
}

interface Tally {
  approved: number;
  edited: number;
  denied: number;
  undecided: number;
}

function tally(items: readonly ApprovalEvidence[]): Tally {
  const t: Tally = { approved: 0, edited: 0, denied: 0, undecided: 0 };
  for (const item of items) t[item.verdict]++;
  return t;
}

const RECENT_CLEAN = 10;

const decided = (t: Tally): number => t.approved + t.edited + t.denied;
const rate = (t: Tally): number => (decided(t) === 0 ? 0 : t.approved / decided(t));

/**
 * The highest value the evidence supports: the longest run of approvals from the boundary up
 * whose decided ones number at least `minSamples` and were granted as asked at `minRate` or more,
 * both over the run and over its upper half, and whose last ten decided approvals were all granted
 * as asked (so refusals bunched near the top are not averaged away).
 */
function supportedThreshold(sorted: readonly { value: number; item: ApprovalEvidence }[], minSamples: number, minRate: number): number | undefined {
  let best: number | undefined;
  for (let end = 0; end < sorted.length; end++) {
    const value = (sorted[end] as { value: number }).value;
    if (end + 1 < sorted.length && (sorted[end + 1] as { value: number }).value === value) continue;
    const run = sorted.slice(0, end + 1).map((entry) => entry.item);
    const whole = tally(run);
    if (decided(whole) < minSamples || rate(whole) < minRate) continue;
    const upper = tally(run.slice(Math.floor(run.length / 2)));
    if (rate(upper) < minRate) continue;
    // The threshold does not end among refusals: the last ten decided calls below it were all granted as asked.
    const last = run.filter((item) => item.verdict !== 'undecided').slice(-RECENT_CLEAN);
    if (last.some((item) => item.verdict !== 'approved')) continue;
    best = value;
  }
  return best;
}

/** Replaces one number inside the `when` of rule `index`, editing only that scalar's source text. */
function editCondition(text: string, index: number, argument: string, bound: Bound, to: number): string {
  const document = parseDocument(text);
  const node = document.getIn(['rules', index, 'when'], true);
  if (!isScalar(node) || !node.range) throw new Error(`rule ${index} has no when to edit`);
  const [start, end] = (node as Scalar).range as [number, number, number];
  const source = text.slice(start, end);
  const name = argument.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(String.raw`(\bargs\.${name}\s*${bound.op}\s*)${bound.literal.replace('.', '\\.')}(?![\w.])`);
  if (!pattern.test(source)) throw new Error(`the condition of rule ${index} does not read as expected`);
  return text.slice(0, start) + source.replace(pattern, `$1${formatNumber(to)}`) + text.slice(end);
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(6)));
}

function ruleId(document: PolicyDocument, index: number): string {
  return (document.rules ?? [])[index]?.id ?? `#${index}`;
}

/**
 * Suggestions for `bundle` from approval history. Deterministic: the same bundle and evidence
 * always give the same suggestions, in policy and rule order.
 */
export function suggestThresholds(bundle: PolicyBundle, history: readonly ApprovalEvidence[], options: SuggestOptions = {}): ThresholdSuggestion[] {
  const minSamples = options.minSamples ?? 20;
  const minRate = options.minApprovalRate ?? 0.95;
  const suggestions: ThresholdSuggestion[] = [];
  for (const policy of bundle.policies) {
    for (const pair of rulePairs(policy)) {
      const approvalRule = ruleId(policy.document, pair.approvalIndex);
      const allowRule = ruleId(policy.document, pair.allowIndex);
      const boundary = pair.approvalBound.value;
      const evidence = history
        .filter((item) => item.rule === approvalRule && item.tool === pair.tool)
        .map((item) => ({ value: item.args[pair.argument], item }))
        .filter((entry): entry is { value: number; item: ApprovalEvidence } => typeof entry.value === 'number' && entry.value > boundary)
        .sort((a, b) => a.value - b.value || a.item.at - b.item.at);
      const highest = supportedThreshold(evidence, minSamples, minRate);
      if (highest === undefined) continue;
      let to = roundDown(highest);
      if (pair.ceiling !== undefined) to = Math.min(to, pair.ceiling);
      if (!(to > boundary)) continue;

      const source = bundle.sources.find((s) => s.file === policy.file);
      if (!source) continue;
      let after: string;
      try {
        after = editCondition(source.text, pair.allowIndex, pair.argument, pair.allowBound, to);
        after = editCondition(after, pair.approvalIndex, pair.argument, pair.approvalBound, to);
      } catch {
        continue;
      }
      const candidateSources: PolicySource[] = bundle.sources.map((s) => (s.file === policy.file ? { file: s.file, text: after } : s));
      let candidate: Engine;
      try {
        candidate = new Engine(parseBundle(candidateSources, bundle.name));
      } catch {
        continue;
      }
      const covered = evidence.filter((entry) => entry.value <= to).map((entry) => entry.item);
      const counts = tally(covered);
      const wouldAllow = covered.filter(
        (item) => candidate.evaluatePolicy({ agent: item.agent, role: item.role, environment: item.environment, tool: item.tool, args: item.args, at: item.at }).effect === 'allow',
      ).length;
      if (wouldAllow === 0) continue;
      const values = covered.map((item) => item.args[pair.argument] as number);
      const mentions = new RegExp(String.raw`(?<![\d.])${pair.allowBound.literal.replace('.', '\\.')}(?![\d])`);
      const review = [pair.allowIndex, pair.approvalIndex]
        .map((index) => (policy.document.rules ?? [])[index])
        .filter((rule) => rule?.reason !== undefined && mentions.test(rule.reason))
        .map((rule) => `the reason of ${rule?.id ?? 'a rule'} still says ${pair.allowBound.literal}: "${rule?.reason ?? ''}"`);
      const unit = pair.argument;
      suggestions.push({
        kind: 'raise_allow_threshold',
        id: `${policy.document.policy}/${allowRule}/${pair.argument}/${formatNumber(to)}`,
        policy: policy.document.policy,
        file: policy.file,
        tool: pair.tool,
        argument: pair.argument,
        allowRule,
        approvalRule,
        from: boundary,
        to,
        evidence: { ...counts, lowest: Math.min(...values), highest: Math.max(...values), wouldAllow },
        message:
          `${pair.tool} calls with ${unit} from ${formatNumber(boundary)} to ${formatNumber(to)} were approved as asked ` +
          `${counts.approved}/${decided(counts)} times: raise the allow threshold of ${allowRule} from ${formatNumber(boundary)} to ${formatNumber(to)}?`,
        review,
        change: { file: policy.file, before: source.text, after },
      });
    }
  }
  return suggestions;
}
