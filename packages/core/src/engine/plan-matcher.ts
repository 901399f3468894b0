import type { ConditionSource } from '../cel/codegen.js';
import type { MatchedRule } from './types.js';

/** Where a matcher leaves what it found besides the deciding rule. */
export interface MatchScratch {
  score: number;
  /** Index of the rule whose condition failed, when the matcher returned MATCH_ERROR. */
  errorRule: number;
  /** What the condition threw; undefined when it returned a non-bool. */
  error: unknown;
}

/** A plan's rules as one function: pushes every matching rule's entry, returns the deciding index. */
export type Matcher = (activation: object, matched: Readonly<MatchedRule>[], scratch: MatchScratch) => number;

/** Returned by a matcher whose condition failed; see `scratch.errorRule`. */
export const MATCH_ERROR = -2;

export interface MatcherRule {
  rank: number;
  risk: number;
  matchedEntry: Readonly<MatchedRule>;
  when: ConditionSource | undefined;
}

/**
 * Generates one function that evaluates a plan's rules in order, with each rule's rank and risk
 * as literals: the strictest rule wins, the first among equals. Conditions proven safe by the
 * code generator run inline; the others are guarded so an error or a non-bool names its rule.
 */
export function generateMatcher(rules: readonly MatcherRule[]): Matcher {
  const constants: unknown[] = [];
  const bindings: string[] = [];
  const body = rules.map((rule, i) => {
    const onMatch = [
      `matched.push(m[${i}]);`,
      rule.risk ? `score += ${rule.risk};` : '',
      rule.rank >= 0 ? `if (${rule.rank} > r) { r = ${rule.rank}; d = ${i}; }` : '',
    ].join(' ');
    const when = rule.when;
    if (!when) return onMatch;
    bindings.push(`const ${when.constantsName} = K[${constants.length}];`);
    constants.push(when.constants);
    if (when.safe) return `if (${when.code}) { ${onMatch} }`;
    return [
      `try { c = ${when.code}; } catch (e) { s.errorRule = ${i}; s.error = e; return ${MATCH_ERROR}; }`,
      `if (c === true) { ${onMatch} } else if (c !== false) { s.errorRule = ${i}; s.error = undefined; return ${MATCH_ERROR}; }`,
    ].join(' ');
  });
  const source = `'use strict'; ${bindings.join(' ')}
return function match(a, matched, s) {
  let d = -1, r = -1, score = 0, c;
  ${body.join('\n  ')}
  s.score = score;
  return d;
};`;
  const factory = new Function('K', 'm', source) as (K: unknown[], m: readonly Readonly<MatchedRule>[]) => Matcher;
  return factory(
    constants,
    rules.map((rule) => rule.matchedEntry),
  );
}
