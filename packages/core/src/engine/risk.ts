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
