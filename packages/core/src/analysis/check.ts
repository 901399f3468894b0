import type { ASTNode, Environment } from '@marcbachmann/cel-js';
import type { ValidateFunction } from 'ajv';
import { createBaseEnvironment, environmentForArgs } from '../cel/environment.js';
import { createAjv } from '../engine/args-validator.js';
import { compileFastAccept } from '../engine/fast-accept.js';
import { BASE_ENVIRONMENT, compileBundle, EFFECT_RANK, type CompiledBundle, type ToolPlan } from '../engine/compile-bundle.js';
import { PolicyLoadError } from '../errors.js';
import type { Effect, JsonSchema } from '../policy/document.js';
import { formatPath, parseBundle, type LoadedPolicy, type PolicyBundle, type PolicySource } from '../policy/load.js';
import { abstractCondition, AtomTable, OTHER_ENVIRONMENT, type SliceConstants } from './abstract.js';
import { cellCount, cells, dimensions, MAX_CELLS, mayHold, unsure, type Dimension, type Outcome, type PlanModel } from './cells.js';
import { FINDING_CODES, type CoverageRegion, type Finding, type FindingCode, type PolicyCheck, type ToolCoverage } from './findings.js';
import { ERROR, TRUE, type Formula } from './formula.js';
import { openWitness } from './pieces.js';
import { describeCells, regionText, type Region } from './regions.js';
import type { ValueValidator } from './terms.js';

/**
 * `policy check`: static analysis of a bundle. Load errors come from the loader and compiler
 * unchanged; for a bundle that loads, every role × environment × tool is split into cells (see
 * cells.ts) and each cell's decision worked out as the engine would, which yields threshold gaps,
 * overlapping effects, shadowed and unreachable rules. Pure and synchronous.
 */

/** Checks policy sources, reporting YAML and format errors as well. */
export function checkSources(sources: readonly PolicySource[], name = 'bundle'): PolicyCheck {
  let bundle: PolicyBundle;
  try {
    bundle = parseBundle(sources, name);
  } catch (error) {
    if (PolicyLoadError.isInstance(error)) return { errors: [...error.errors], findings: [], coverage: [] };
    throw error;
  }
  return checkBundle(bundle);
}

/** Checks a parsed bundle. A bundle that does not compile reports its errors and nothing else. */
export function checkBundle(bundle: PolicyBundle): PolicyCheck {
  let compiled: CompiledBundle;
  try {
    compiled = compileBundle(bundle);
  } catch (error) {
    if (PolicyLoadError.isInstance(error)) return { errors: [...error.errors], findings: [], coverage: [] };
    throw error;
  }
  return new Analysis(bundle, compiled).run();
}

interface Item {
  kind: 'rule' | 'limit';
  id: string;
  when: string | undefined;
  effect: Effect | undefined;
  risk: number;
  policy: LoadedPolicy;
  path: (string | number)[];
}

interface ItemStats {
  /** Slices (role, environment) the item is part of. */
  slices: Set<string>;
  tools: Set<string>;
  possible: boolean;
  decides: boolean;
  /** Its condition may fail at run time: even when it never decides, it is not redundant (its error blocks). */
  mayError: boolean;
  /** Some slice was too large to analyse: nothing is claimed about the item. */
  unknown: boolean;
  winners: Set<string>;
}

/** A finding for one slice, before findings equal across slices are merged. */
type SliceFinding = Omit<Finding, 'severity' | 'roles' | 'environments'> & { slice: string; losers?: string[] };

interface Slice {
  role: string;
  label: string;
  value: SliceConstants['environment'];
  key: string;
}

const outcomeKey = (o: Outcome): string => `${o.effect}|${o.decidedBy}|${o.rule}|${o.policy}`;

/**
 * Cell × condition evaluations one bundle's analysis may take, over all its roles, environments
 * and tools together: MAX_CELLS bounds one tool, but a tool repeats per role and environment
 * slice, so a 4 KB policy of 60 rules on `tool: '*'` held the server 18 s over three tools. At
 * ~1.6 µs a unit this is about half a second; the tools past it are reported as not analysed.
 */
export const MAX_BUNDLE_WORK = 300_000;

function winnerLabel(o: Outcome): string {
  if (o.rule) return o.rule;
  if (o.decidedBy === 'default') return `the default of policy ${o.policy}`;
  if (o.decidedBy === 'risk') return `the risk tier of policy ${o.policy}`;
  return 'a condition error';
}

class Analysis {
  private readonly policies = new Map<string, LoadedPolicy>();
  private readonly items = new Map<string, Item>();
  private readonly stats = new Map<string, ItemStats>();
  private readonly cel = createBaseEnvironment();
  private readonly celByTool = new Map<string, Environment>();
  private readonly asts = new Map<string, ASTNode>();
  private ajv: ReturnType<typeof createAjv> | undefined;
  private readonly validators = new Map<JsonSchema, { fast: ((value: unknown) => boolean) | undefined; full: (value: unknown) => boolean }>();
  private readonly sliceFindings: SliceFinding[] = [];
  private readonly coverage: (Omit<ToolCoverage, 'environments'> & { environment: string })[] = [];
  private readonly slicesByRole = new Map<string, string[]>();
  private readonly opaque = new Map<string, Set<string>>();
  /** What is left of MAX_BUNDLE_WORK for the tools not analysed yet. */
  private workLeft = MAX_BUNDLE_WORK;

  constructor(
    bundle: PolicyBundle,
    private readonly compiled: CompiledBundle,
  ) {
    for (const policy of bundle.policies) {
      const doc = policy.document;
      this.policies.set(doc.policy, policy);
      const add = (kind: Item['kind'], list: { id: string; when?: string; effect?: Effect; risk?: number }[], path: (string | number)[]): void =>
        list.forEach((item, i) =>
          this.items.set(item.id, { kind, id: item.id, when: item.when, effect: item.effect, risk: item.risk ?? 0, policy, path: [...path, i] }),
        );
      add('rule', doc.rules, ['rules']);
      add('limit', doc.limits, ['limits']);
      for (const [environment, override] of Object.entries(doc.environments)) {
        add('rule', override.rules, ['environments', environment, 'rules']);
        add('limit', override.limits, ['environments', environment, 'limits']);
      }
    }
  }

  private readonly validate: ValueValidator = (schema, value, quick) => {
    let validator = this.validators.get(schema);
    if (!validator) {
      // As argument validation does: the fast predicate may only accept; ajv (compiled on first need) decides the rest.
      const fast = compileFastAccept(schema)?.accepts;
      let full: ValidateFunction | undefined;
      validator = { fast, full: (v) => (full ??= (this.ajv ??= createAjv()).compile(schema))(v) };
      this.validators.set(schema, validator);
    }
    if (validator.fast?.(value)) return true;
    return quick && validator.fast ? false : validator.full(value);
  };

  run(): PolicyCheck {
    for (const [role, byEnvironment] of this.compiled.index) {
      const base = byEnvironment.get(BASE_ENVIRONMENT);
      if (!base) continue;
      const named = [...byEnvironment.keys()].filter((e) => e !== BASE_ENVIRONMENT);
      const mentioned = this.environmentLiterals(role).filter((e) => !named.includes(e));
      const slices: (Slice & { byTool: Map<string, ToolPlan[]> })[] = [
        ...[...named, ...mentioned].map((environment) => ({
          role,
          label: environment,
          value: environment,
          key: `${role}\0${environment}`,
          byTool: byEnvironment.get(environment) ?? base,
        })),
        { role, label: '*', value: OTHER_ENVIRONMENT, key: `${role}\0*`, byTool: base },
      ];
      this.slicesByRole.set(role, slices.map((s) => s.label));
      for (const slice of slices) for (const [tool, plans] of slice.byTool) this.analyse(slice, tool, plans);
    }
    return { errors: [], findings: this.findings(), coverage: this.mergedCoverage() };
  }

  /** String literals the role's conditions compare `environment` with: each is analysed as its own environment. */
  private environmentLiterals(role: string): string[] {
    const found = new Set<string>();
    for (const item of this.items.values()) {
      if (!item.when || !item.policy.document.appliesTo.roles.includes(role)) continue;
      const visit = (node: ASTNode): void => {
        if (node.op === '==' || node.op === '!=' || node.op === 'in') {
          const [l, r] = node.args as [ASTNode, ASTNode];
          const isEnvironment = (n: ASTNode): boolean => n.op === 'id' && n.args === 'environment';
          const literals = (n: ASTNode): ASTNode[] => (n.op === 'list' ? n.args : [n]);
          for (const [a, b] of [
            [l, r],
            [r, l],
          ] as const) {
            if (!isEnvironment(a)) continue;
            for (const lit of literals(b)) if (lit.op === 'value' && typeof lit.args === 'string') found.add(lit.args);
          }
        }
        for (const child of children(node)) visit(child);
      };
      visit(this.cel.parse(item.when).ast);
    }
    return [...found];
  }

  private stat(id: string): ItemStats {
    let stats = this.stats.get(id);
    if (!stats) this.stats.set(id, (stats = { slices: new Set(), tools: new Set(), possible: false, decides: false, mayError: false, unknown: false, winners: new Set() }));
    return stats;
  }

  private formula(id: string, policy: string, tool: string, table: AtomTable, constants: SliceConstants): Formula {
    const item = this.items.get(id);
    if (!item?.when) return { kind: 'const', value: TRUE };
    const key = `${policy}\0${tool}\0${item.when}`;
    let ast = this.asts.get(key);
    if (!ast) {
      const envKey = `${policy}\0${tool}`;
      let env = this.celByTool.get(envKey);
      if (!env) {
        env = environmentForArgs(this.cel, this.policies.get(policy)?.document.tools[tool]?.args ?? {});
        this.celByTool.set(envKey, env);
      }
      ast = env.parse(item.when).ast;
      this.asts.set(key, ast);
    }
    const abstraction = abstractCondition(ast, item.when, table, constants);
    if (abstraction.opaque.length > 0) {
      const set = this.opaque.get(id) ?? new Set();
      for (const snippet of abstraction.opaque) set.add(snippet);
      this.opaque.set(id, set);
    }
    return abstraction.formula;
  }

  /** The tool's declaration, or the declaration of the argument a region constrains first (ranges before values). */
  private toolLocation(policy: string, tool: string, region: Region = []): Pick<Finding, 'file' | 'line' | 'path' | 'policy' | 'tool'> {
    const loaded = this.policies.get(policy) as LoadedPolicy;
    const arg = (region.find((c) => c.kind === 'range') ?? region[0])?.path[0];
    const path = arg === undefined ? ['tools', tool] : ['tools', tool, 'args', arg];
    return { file: loaded.file, line: loaded.locate(path), path: formatPath(path), policy, tool };
  }

  private itemLocation(id: string): Pick<Finding, 'file' | 'line' | 'path' | 'policy' | 'rule'> {
    const item = this.items.get(id) as Item;
    return { file: item.policy.file, line: item.policy.locate(item.path), path: formatPath(item.path), policy: item.policy.document.policy, rule: id };
  }

  private analyse(slice: Slice, tool: string, plans: readonly ToolPlan[]): void {
    const definitions = plans.map((plan) => this.policies.get(plan.policy)?.document.tools[tool]).filter((d) => d !== undefined);
    const table = new AtomTable(definitions, this.validate);
    const constants: SliceConstants = { role: slice.role, environment: slice.value, tool };
    const models: PlanModel[] = plans.map((plan) => ({
      policy: plan.policy,
      defaultEffect: plan.defaultEffect,
      riskTiers: plan.riskTiers,
      rules: plan.rules.map((rule) => {
        const stats = this.stat(rule.id);
        stats.slices.add(slice.key);
        stats.tools.add(tool);
        return { id: rule.id, policy: plan.policy, effect: rule.effect, risk: rule.risk, formula: this.formula(rule.id, plan.policy, tool, table, constants) };
      }),
    }));
    const limits = plans.flatMap((plan) => plan.limits.map((limit) => ({ id: limit.id, formula: this.formula(limit.id, plan.policy, tool, table, constants) })));
    for (const limit of limits) {
      const stats = this.stat(limit.id);
      stats.slices.add(slice.key);
      stats.tools.add(tool);
    }
    const dims = dimensions(table);
    const first = plans[0] as ToolPlan;
    const slicePart = { slice: slice.key };

    const count = cellCount(dims);
    // Each cell evaluates every rule's and limit's formula: the work this tool would take.
    const work = count * (models.reduce((sum, m) => sum + m.rules.length, 0) + limits.length + 1);
    if (count > MAX_CELLS || work > this.workLeft) {
      for (const id of [...models.flatMap((m) => m.rules.map((r) => r.id)), ...limits.map((l) => l.id)]) this.stat(id).unknown = true;
      this.sliceFindings.push({
        ...slicePart,
        ...this.toolLocation(first.policy, tool),
        code: 'analysis_limit',
        message:
          count > MAX_CELLS
            ? `${tool}: not analysed: its conditions split the arguments into more than ${MAX_CELLS} combinations`
            : `${tool}: not analysed: the bundle's analysis budget (${MAX_BUNDLE_WORK} cell × condition evaluations over every role, environment and tool) is spent`,
      });
      this.coverage.push({ role: slice.role, tool, environment: slice.label });
      return;
    }
    this.workLeft -= work;

    const coverage = new Map<string, { status: CoverageRegion['status']; decision: Outcome | undefined; cells: Int32Array[] }>();
    const gaps = new Map<string, { outcomes: Outcome[]; cells: Int32Array[] }>();
    const overlaps = new Map<
      string,
      { losers: { id: string; effect: Effect }[]; stricter: Map<string, Effect>; outcomes: Map<string, Outcome>; certain: boolean; cells: Int32Array[] }
    >();
    const undecided = new Map<string, { rules: string[]; cells: Int32Array[] }>();
    const ruleStats = models.map((m) => m.rules.map((r) => this.stat(r.id)));
    const limitStats = limits.map((l) => this.stat(l.id));
    let everyCellIsGap = true;

    for (const cell of cells(table, dims, models, limits.map((l) => l.formula))) {
      const outcomes = cell.outcomes;
      const status: CoverageRegion['status'] = !outcomes
        ? 'not_analysed'
        : outcomes.every((o) => o.fellThrough)
          ? 'gap'
          : outcomes.every((o) => !o.fellThrough)
            ? 'covered'
            : 'not_analysed';
      const single = outcomes?.length === 1 ? outcomes[0] : undefined;
      if (status !== 'gap') everyCellIsGap = false;
      push(coverage, `${status}|${single ? outcomeKey(single) : '?'}`, () => ({ status, decision: single, cells: [] }), cell.coords);

      if (status === 'gap' && outcomes) {
        push(gaps, outcomes.map(outcomeKey).sort().join(';'), () => ({ outcomes, cells: [] }), cell.coords);
      } else if (status === 'not_analysed') {
        const rules = models.flatMap((m, p) => m.rules.filter((_, r) => unsure(cell.truths[p]?.[r] as number)).map((r) => r.id));
        push(undecided, rules.join(','), () => ({ rules, cells: [] }), cell.coords);
      }

      const matching: { id: string; effect: Effect }[] = [];
      models.forEach((m, p) => {
        const row = cell.truths[p] as Uint8Array;
        const stats = ruleStats[p] as ItemStats[];
        m.rules.forEach((rule, r) => {
          const truth = row[r] as number;
          if (truth & ERROR) (stats[r] as ItemStats).mayError = true;
          if (!mayHold(truth)) return;
          if (truth === TRUE && rule.effect) matching.push({ id: rule.id, effect: rule.effect });
          const s = stats[r] as ItemStats;
          s.possible = true;
          if (!outcomes) s.unknown = true;
          // Shadowed means never deciding its own policy's answer; another policy's answer may still win.
          for (const o of outcomes ?? []) {
            const decider = o.deciders[p];
            if (decider === rule.id) s.decides = true;
            else s.winners.add(decider ?? winnerLabel(o));
          }
        });
      });
      if (matching.length > 1 && new Set(matching.map((m) => m.effect)).size > 1) {
        // Grouped by the rules that lose, so one overlap reads as one finding across the stricter rules' ranges.
        const top = Math.max(...matching.map((m) => EFFECT_RANK[m.effect]));
        const losers = matching.filter((m) => EFFECT_RANK[m.effect] < top);
        const key = losers.map((m) => m.id).join(',');
        const group = overlaps.get(key) ?? { losers, stricter: new Map<string, Effect>(), outcomes: new Map<string, Outcome>(), certain: true, cells: [] };
        for (const m of matching) if (EFFECT_RANK[m.effect] === top) group.stricter.set(m.id, m.effect);
        for (const o of outcomes ?? []) group.outcomes.set(outcomeKey(o), o);
        if (!outcomes) group.certain = false;
        group.cells.push(cell.coords);
        overlaps.set(key, group);
      }
      limitStats.forEach((stats, i) => {
        if (mayHold(cell.extra[i] as number)) stats.possible = true;
      });
    }

    this.coverage.push({
      role: slice.role,
      tool,
      environment: slice.label,
      regions: [...coverage.values()].flatMap((group) =>
        describeCells(dims, group.cells).map((region) => ({
          region,
          text: regionText(region),
          status: group.status,
          ...(group.decision ? { decision: { effect: group.decision.effect, decidedBy: group.decision.decidedBy, rule: group.decision.rule, policy: group.decision.policy } } : {}),
        })),
      ),
    });

    const hasEffectRules = models.some((m) => m.rules.some((r) => r.effect));
    if (everyCellIsGap && !hasEffectRules) {
      const [outcome] = [...gaps.values()][0]?.outcomes ?? [];
      this.sliceFindings.push({
        ...slicePart,
        ...this.toolLocation(outcome?.policy ?? first.policy, tool),
        code: 'default_only',
        message: `${tool}: no rule with an effect applies; ${outcome ? `the default of policy ${outcome.policy} (${outcome.effect})` : 'the policy default'} decides every call`,
        ...(outcome ? { effect: outcome.effect } : {}),
      });
    } else {
      for (const { outcomes, cells: gapCells } of gaps.values()) this.gapFindings(slicePart, tool, dims, outcomes, gapCells);
    }

    for (const { losers, stricter, outcomes, certain, cells: overlapCells } of overlaps.values()) {
      const effects = new Set([...outcomes.values()].map((o) => o.effect));
      const [effect] = effects;
      const deciders = [...new Set([...outcomes.values()].filter((o) => o.decidedBy !== 'error').map(winnerLabel))];
      const decides = !certain || deciders.length === 0 ? 'the strictest effect decides' : effects.size === 1 ? `${effect} decides (${deciders.join(' or ')})` : `${deciders.join(' or ')} decides`;
      const named = (list: Iterable<[string, Effect]>): string => [...list].map(([id, e]) => `${id} (${e})`).join(', ');
      for (const region of describeCells(dims, overlapCells)) {
        this.sliceFindings.push({
          ...slicePart,
          ...this.itemLocation((losers[0] as { id: string }).id),
          code: 'overlapping_effects',
          tool,
          rules: [...losers.map((l) => l.id), ...stricter.keys()],
          losers: losers.map((l) => l.id),
          region,
          ...(certain && effects.size === 1 && effect ? { effect } : {}),
          message: `${tool}: ${named(losers.map((l) => [l.id, l.effect]))} overlaps ${named(stricter)} on ${regionText(region)}: ${decides}`,
        });
      }
    }

    for (const { rules, cells: unsureCells } of undecided.values()) {
      const [firstRule] = rules;
      const why = rules.map((id) => `${id}: ${[...(this.opaque.get(id) ?? ['its condition'])].map((s) => `\`${s}\``).join(', ')}`).join('; ');
      for (const region of describeCells(dims, unsureCells)) {
        this.sliceFindings.push({
          ...slicePart,
          ...(firstRule ? this.itemLocation(firstRule) : this.toolLocation(first.policy, tool)),
          code: 'not_analysed',
          tool,
          rules,
          region,
          message: `${tool}: whether a rule or a default decides ${regionText(region)} depends on conditions that are not analysed (${why || 'too many unknown conditions'})`,
        });
      }
    }
  }

  private gapFindings(slicePart: { slice: string }, tool: string, dims: readonly Dimension[], outcomes: readonly Outcome[], gapCells: Int32Array[]): void {
    const [first] = outcomes as [Outcome];
    const effects = new Set(outcomes.map((o) => o.effect));
    const effect = effects.size === 1 ? first.effect : undefined;
    const decides =
      effects.size > 1
        ? 'its default decides, raised by a risk tier that depends on conditions not analysed'
        : first.decidedBy === 'risk'
          ? `its default, raised by the risk tier to ${first.effect}, decides`
          : `its default (${first.effect}) decides`;
    for (const region of describeCells(dims, gapCells)) {
      const example = exampleOf(region);
      const code: FindingCode = region.some((c) => c.kind === 'range') ? 'threshold_gap' : 'uncovered_values';
      this.sliceFindings.push({
        ...slicePart,
        ...this.toolLocation(first.policy as string, tool, region),
        code,
        region,
        ...(effect ? { effect } : {}),
        message:
          region.length === 0
            ? `${tool}: no rule of policy ${first.policy} matches any call: ${decides}`
            : `${tool}: ${regionText(region)} matches no rule of policy ${first.policy}: ${decides}${example ? ` (e.g. ${example})` : ''}`,
      });
    }
  }

  private findings(): Finding[] {
    const shadowed = new Set<string>();
    for (const [id, stats] of this.stats) {
      const item = this.items.get(id);
      if (!item || stats.unknown || stats.slices.size === 0) continue;
      const tools = [...stats.tools].join(', ');
      for (const slice of stats.slices) {
        if (!stats.possible) {
          this.sliceFindings.push({
            slice,
            ...this.itemLocation(id),
            code: item.kind === 'rule' ? 'unreachable_rule' : 'unreachable_limit',
            message: `${item.kind} ${id} never applies: ${item.when ? `its condition \`${item.when}\`` : 'it'} is false for every valid call of ${tools}`,
          });
        } else if (item.kind === 'rule' && item.effect && !stats.decides && !stats.mayError) {
          shadowed.add(id);
          // A possible condition error is named only when nothing else explains it.
          const named = [...stats.winners].filter((w) => w !== 'a condition error');
          const winners = named.length > 0 ? named : [...stats.winners];
          this.sliceFindings.push({
            slice,
            ...this.itemLocation(id),
            code: 'shadowed_rule',
            rules: winners,
            message: `rule ${id} (${item.effect}) never decides: wherever it matches, ${winners.join(' or ')} decides${item.risk ? ' (its risk points still count)' : ''}`,
          });
        }
      }
    }
    const merged = new Map<string, Finding & { slices: Set<string> }>();
    for (const { slice, losers, ...finding } of this.sliceFindings) {
      if (finding.code === 'overlapping_effects' && losers && losers.length > 0 && losers.every((id) => shadowed.has(id))) continue;
      const key = JSON.stringify([finding.code, finding.file, finding.line, finding.path, finding.message]);
      const existing = merged.get(key);
      if (existing) existing.slices.add(slice);
      else merged.set(key, { ...finding, severity: FINDING_CODES[finding.code], roles: [], environments: [], slices: new Set([slice]) });
    }
    return [...merged.values()]
      .map(({ slices, ...finding }) => {
        const { roles, environments, everywhere } = this.where(slices);
        const suffix = everywhere ? '' : ` [${environments.map((e) => (e === '*' ? 'any other environment' : e)).join(', ')}]`;
        return { ...finding, roles, environments, message: `${finding.message}${suffix}` };
      })
      .sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || a.code.localeCompare(b.code));
  }

  /** The roles and environments of a set of slices, and whether they are all of those roles' environments. */
  private where(slices: ReadonlySet<string>): { roles: string[]; environments: string[]; everywhere: boolean } {
    const pairs = [...slices].map((s) => s.split('\0') as [string, string]);
    const roles = [...new Set(pairs.map(([role]) => role))];
    const environments = [...new Set(pairs.map(([, environment]) => environment))];
    const everywhere = roles.every((role) => (this.slicesByRole.get(role) ?? []).every((e) => slices.has(`${role}\0${e}`)));
    return { roles, environments, everywhere };
  }

  private mergedCoverage(): ToolCoverage[] {
    const merged = new Map<string, ToolCoverage>();
    for (const { environment, ...entry } of this.coverage) {
      const key = JSON.stringify([entry.role, entry.tool, entry.regions ?? null]);
      const existing = merged.get(key);
      if (existing) existing.environments.push(environment);
      else merged.set(key, { role: entry.role, tool: entry.tool, environments: [environment], ...(entry.regions ? { regions: entry.regions } : {}) });
    }
    return [...merged.values()];
  }
}

function push<T extends { cells: Int32Array[] }>(map: Map<string, T>, key: string, create: () => T, coords: Int32Array): void {
  let group = map.get(key);
  if (!group) map.set(key, (group = create()));
  group.cells.push(coords);
}

/** A value inside the region's first range, to make a gap concrete (`amount = 50.005`). */
function exampleOf(region: Region): string | undefined {
  const range = region.find((c) => c.kind === 'range');
  const interval = range?.kind === 'range' ? range.intervals[0] : undefined;
  if (!range || !interval) return undefined;
  if (interval.min !== null && interval.min === interval.max) return undefined;
  const value =
    interval.minInclusive && interval.min !== null
      ? interval.min
      : interval.maxInclusive && interval.max !== null
        ? interval.max
        : openWitness(interval.min ?? -Infinity, interval.max ?? Infinity, false);
  return value === undefined ? undefined : `${range.arg} = ${value}`;
}

function children(node: ASTNode): ASTNode[] {
  const out: ASTNode[] = [];
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object' && 'op' in value) out.push(value as ASTNode);
  };
  collect(node.args);
  return out;
}
