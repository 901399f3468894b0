import type { RiskTiers } from '../policy/document.js';
import type { Effect, RiskLevel } from './types.js';

/** Score → tier: at or above a tier's threshold is that tier. */
export function riskLevel(score: number, tiers: RiskTiers): RiskLevel {
  if (score >= tiers.critical) return 'critical';
  if (score >= tiers.high) return 'high';
  if (score >= tiers.medium) return 'medium';
  return 'low';
}

/** low and medium allow (medium is flagged), high needs approval, critical blocks. */
export function riskEffect(level: RiskLevel): Effect {
  return level === 'critical' ? 'block' : level === 'high' ? 'require_approval' : 'allow';
}

const LEVEL_RANK: Readonly<Record<RiskLevel, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

/**
 * The tier an outcome stands for, the reverse of `riskEffect`: an allowed call is low (medium
 * when flagged), a call that needs approval is high, a blocked call is critical.
 */
export function outcomeLevel(effect: Effect, flagged: boolean): RiskLevel {
  return effect === 'block' ? 'critical' : effect === 'require_approval' ? 'high' : flagged ? 'medium' : 'low';
}

/** Shared, frozen: the risk of every decision without risk points, by outcome. */
const UNSCORED: Readonly<Record<RiskLevel, Readonly<{ score: number; level: RiskLevel }>>> = {
  low: Object.freeze({ score: 0, level: 'low' }),
  medium: Object.freeze({ score: 0, level: 'medium' }),
  high: Object.freeze({ score: 0, level: 'high' }),
  critical: Object.freeze({ score: 0, level: 'critical' }),
};

/**
 * The risk a decision reports: its raw score, and the stricter of the score's tier and the tier its
 * outcome stands for. A call blocked by a rule, a limit, a pause or an error is never "low"; an
 * allowed call keeps its score's tier (which can only be low or medium: a higher tier would have
 * made it stricter). Read-only: decisions may share it.
 */
export function decisionRisk(score: number, scoreLevel: RiskLevel, effect: Effect, flagged: boolean): Readonly<{ score: number; level: RiskLevel }> {
  const implied = outcomeLevel(effect, flagged);
  const level = LEVEL_RANK[implied] > LEVEL_RANK[scoreLevel] ? implied : scoreLevel;
  return score === 0 ? UNSCORED[level] : { score, level };
}
