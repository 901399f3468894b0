import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, parseAllDocuments } from 'yaml';
import { parseBundle, type PolicySource } from './load.js';
import type { PolicyDocument } from './document.js';

/**
 * The part of a bundle that concerns one role in one environment: the policy documents whose
 * `appliesTo.roles` name the role, each without the `environments` overrides of other
 * environments. The engine reads nothing else for such a caller, so an engine compiled from it
 * decides that caller's calls exactly as the whole bundle does; what other roles may do (their
 * tools, thresholds, approvers) is left out. Used for edge mode, where an agent key receives the
 * policy it is held to (`GET /v1/edge/stream`).
 *
 * The kept documents are re-written from their YAML syntax trees (comments and spellings kept);
 * the result is checked: each kept policy must parse to the original document minus the removed
 * overrides, or the document is kept whole (an alias into a removed override), and if even that
 * differs this throws rather than hand out a policy that decides differently.
 */
export function scopeSources(sources: readonly PolicySource[], role: string, environment: string): PolicySource[] {
  const scoped: PolicySource[] = [];
  const expected = new Map<string, PolicyDocument>();
  for (const { document } of parseBundle(sources).policies) {
    if (!document.appliesTo.roles.includes(role)) continue;
    const own = document.environments[environment];
    expected.set(document.policy, { ...document, environments: own ? { [environment]: own } : {} });
  }
  if (expected.size === 0) return scoped;
  for (const source of sources) {
    const texts: string[] = [];
    for (const doc of parseAllDocuments(source.text)) {
      const raw: unknown = doc.toJS({ maxAliasCount: 100 });
      const roles = (raw as { appliesTo?: { roles?: unknown } } | null)?.appliesTo?.roles;
      if (!Array.isArray(roles) || !roles.includes(role)) continue;
      const whole = doc.toString();
      const environments = doc.get('environments');
      if (isMap(environments)) {
        for (const pair of [...environments.items]) {
          const name = isScalar(pair.key) ? pair.key.value : pair.key;
          if (name !== environment) environments.delete(pair.key);
        }
      }
      let trimmed: string | undefined;
      try {
        trimmed = doc.toString();
      } catch {
        // An alias to an anchor inside a removed override.
      }
      texts.push(trimmed !== undefined && matches(source.file, trimmed, expected) ? trimmed : whole);
    }
    if (texts.length > 0) scoped.push({ file: source.file, text: texts.map((text) => `---\n${text}`).join('') });
  }
  const parsed = parseBundle(scoped).policies;
  const ok = parsed.length === expected.size && parsed.every(({ document }) => sameDecisions(document, expected.get(document.policy)));
  if (!ok) throw new Error(`the policy for role ${role} in ${environment} cannot be separated from the bundle`);
  return scoped;
}

function matches(file: string, text: string, expected: Map<string, PolicyDocument>): boolean {
  try {
    const [loaded] = parseBundle([{ file, text }]).policies;
    return loaded !== undefined && isDeepStrictEqual(loaded.document, expected.get(loaded.document.policy));
  } catch {
    return false;
  }
}

/** Equal, or equal once the other environments' overrides (kept because of an alias) are removed. */
function sameDecisions(document: PolicyDocument, expected: PolicyDocument | undefined): boolean {
  if (!expected) return false;
  const own = Object.keys(expected.environments);
  const environments = Object.fromEntries(Object.entries(document.environments).filter(([name]) => own.includes(name)));
  return isDeepStrictEqual({ ...document, environments }, expected);
}
