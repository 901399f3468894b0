import { CelRuntimeError, type CompiledExpression } from '../cel/compile.js';
import type { ConditionSource } from '../cel/codegen.js';
import type { TimeoutAction } from '../policy/document.js';
import type { ApprovalRoute, ApprovalTier } from './types.js';

/**
 * A rule's (or limit's) approval route for one tool: the route as it starts at each tier, and the
 * tiers' conditions compiled once. The engine picks the first tier whose condition holds; the
 * last tier has no condition, so every call has one.
 */
export interface CompiledRoute {
  /** One per tier; undefined: the tier always holds. */
  conditions: (CompiledExpression | undefined)[];
  /** The same conditions as generated source, for generated decision functions (same order). */
  sources?: (ConditionSource | undefined)[];
  /** The route starting at each tier; frozen and shared by every decision that takes it. */
  routes: Readonly<ApprovalRoute>[];
  /** Names the route in condition errors (`rule 'refund-medium'`). */
  owner: string;
}

/** What every tier of a route is built from, durations still as written (already validated). */
export interface TierSpec {
  name: string;
  approvers: string[];
  required: number;
  timeout: string | null;
  onTimeout: TimeoutAction;
}

/** The frozen routes starting at each tier; an `escalate` with no tier above is a `block`. */
export function routesFor(specs: readonly TierSpec[], expiresIn: string | null): Readonly<ApprovalRoute>[] {
  const tiers: readonly ApprovalTier[] = Object.freeze(
    specs.map((spec, i) =>
      Object.freeze({
        name: spec.name,
        approvers: Object.freeze([...spec.approvers]) as string[],
        required: spec.required,
        timeout: spec.timeout,
        onTimeout: spec.onTimeout === 'escalate' && i === specs.length - 1 ? 'block' : spec.onTimeout,
      }),
    ),
  );
  return tiers.map((tier, tierIndex) =>
    Object.freeze({
      tier: tier.name,
      tierIndex,
      approvers: tier.approvers,
      required: tier.required,
      timeout: tier.timeout,
      onTimeout: tier.onTimeout,
      expiresIn,
      tiers,
    }),
  );
}

/** The route of a call that needs approval without naming approvers (a risk tier, a policy default). */
export const DEFAULT_ROUTE: Readonly<ApprovalRoute> = routesFor([{ name: 'default', approvers: [], required: 1, timeout: null, onTimeout: 'block' }], null)[0] as Readonly<
  ApprovalRoute
>;

/** A call's route, or a condition error message. Conditions see the same activation as the rules. */
export function resolveRoute(route: CompiledRoute, activation: object): Readonly<ApprovalRoute> | string {
  const { conditions, routes } = route;
  for (let i = 0; i < conditions.length; i++) {
    const condition = conditions[i];
    if (!condition) return routes[i] as Readonly<ApprovalRoute>;
    let holds: unknown;
    try {
      holds = condition(activation);
    } catch (error) {
      if (!(error instanceof CelRuntimeError)) throw error;
      return `${route.owner}, approval tier '${routes[i]?.tier}': ${error.message}`;
    }
    if (holds === true) return routes[i] as Readonly<ApprovalRoute>;
    if (holds !== false) return `${route.owner}, approval tier '${routes[i]?.tier}': condition is not a bool`;
  }
  // Unreachable: the compiler requires the last tier to have no condition.
  return `${route.owner}: no approval tier applies`;
}
