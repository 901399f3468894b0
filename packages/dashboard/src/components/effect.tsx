import type { Effect } from '../api/types';
import { EFFECT_LABEL } from '../format';

/** Effect colours, shared by badges and charts. */
export const EFFECT_COLOR: Record<Effect, string> = { allow: '#2f855a', require_approval: '#b7791f', block: '#c53030' };

export function EffectBadge({ effect }: { effect: Effect | string | null }) {
  if (effect === null) return <span className="muted">—</span>;
  const known = effect === 'allow' || effect === 'require_approval' || effect === 'block';
  return <span className={`badge effect-${known ? effect : 'other'}`}>{known ? EFFECT_LABEL[effect] : effect}</span>;
}

export function RiskBadge({ risk }: { risk: { score: number; level: string } | undefined }) {
  if (!risk) return <span className="muted">—</span>;
  return (
    <span className={`risk risk-${risk.level}`} title={`risk score ${risk.score}`}>
      {risk.level} {risk.score > 0 ? `(${risk.score})` : ''}
    </span>
  );
}
