import type { LimitDocument, RuleDocument } from './document.js';
import type { PolicyBundle } from './load.js';

/** Every approver group a bundle's rules and limits name (environment overrides included), sorted. */
export function approverGroups(bundle: PolicyBundle): string[] {
  const groups = new Set<string>();
  const add = (item: RuleDocument | LimitDocument): void => {
    for (const group of item.approvers ?? []) groups.add(group);
    for (const group of item.approval?.approvers ?? []) groups.add(group);
    for (const tier of item.approval?.tiers ?? []) for (const group of tier.approvers) groups.add(group);
  };
  for (const { document } of bundle.policies) {
    [...document.rules, ...document.limits].forEach(add);
    for (const override of Object.values(document.environments)) [...override.rules, ...override.limits].forEach(add);
  }
  return [...groups].sort();
}
