import type { LoadError, LocatedError } from '../errors.js';
import type { Effect } from '../policy/document.js';
import type { Region } from './regions.js';

/** What `policy check` reports besides load errors (docs/policy-check.md, docs/errors.md). */
export const FINDING_CODES = {
  threshold_gap: 'warning',
  uncovered_values: 'warning',
  overlapping_effects: 'warning',
  shadowed_rule: 'warning',
  unreachable_rule: 'warning',
  unreachable_limit: 'warning',
  not_analysed: 'info',
  default_only: 'info',
  analysis_limit: 'info',
} as const;

export type FindingCode = keyof typeof FINDING_CODES;
export type Severity = 'error' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error'];

export interface Finding {
  code: FindingCode;
  severity: 'warning' | 'info';
  message: string;
  /** Bundle-relative file, 1-based line and document path of the rule, limit or tool concerned. */
  file: string;
  line?: number;
  path?: string;
  policy: string;
  tool?: string;
  /** The rule or limit the finding is about. */
  rule?: string;
  /** Other rules involved: the ones that shadow it, overlap with it, or are not analysed. */
  rules?: string[];
  roles: string[];
  /** Where it holds; `*` stands for every environment the bundle does not name. */
  environments: string[];
  /** The argument region concerned; empty: every call. */
  region?: Region;
  /** The effect that decides the region (gaps, overlaps) when it is certain. */
  effect?: Effect;
}

/** The decision every call of a coverage region gets, when it is certain. */
export interface RegionDecision {
  effect: Effect;
  decidedBy: 'rule' | 'default' | 'risk' | 'error';
  rule: string | null;
  policy: string | null;
}

export interface CoverageRegion {
  region: Region;
  text: string;
  /** covered: a rule decides; gap: a policy default decides; not_analysed: depends on conditions not analysed. */
  status: 'covered' | 'gap' | 'not_analysed';
  decision?: RegionDecision;
}

/** How one tool's valid calls are decided for one role, in the listed environments (limits aside). */
export interface ToolCoverage {
  role: string;
  tool: string;
  environments: string[];
  /** Disjoint; together every call that passes argument validation. Absent when not analysed. */
  regions?: CoverageRegion[];
}

export interface PolicyCheck {
  /** Load errors (YAML, format, schema, CEL syntax and types): the bundle cannot be used. */
  errors: LoadError[];
  findings: Finding[];
  coverage: ToolCoverage[];
}

/** `file:line (path): warning code: message`, like a located load error with its severity. */
export function formatFinding(finding: LocatedError & { severity: Severity }): string {
  const where = finding.line === undefined ? finding.file : `${finding.file}:${finding.line}`;
  const path = finding.path ? ` (${finding.path})` : '';
  return `${where}${path}: ${finding.severity} ${finding.code}: ${finding.message}`;
}
