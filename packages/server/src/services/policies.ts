import {
  canonicalJson,
  checkSources,
  compile,
  limitKindOf,
  limitsOf,
  parseBundle,
  PolicyLoadError,
  sha256Hex,
  MemorySeenStore,
  type CounterStore,
  type SeenStore,
  type Engine,
  type Finding,
  type LimitKind,
  type PolicyBundle,
  type PolicySource,
} from '@airlock/core';
import type { Clock } from '../clock.js';
import { AirlockError, notFound } from '../errors.js';
import type { AuditWriter } from '../audit/writer.js';
import type { PolicyVersionRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { EventBus, PolicyEvent } from './events.js';
import { filePatch } from './bounded-patch.js';
import { KeyedLock, type Locks } from './keyed-lock.js';
import { quarantineSetting, type QuarantineSetting } from './pauses.js';

export interface PolicyVersionView {
  version: number;
  bundle: string;
  digest: string;
  files: string[];
  createdBy: string;
  createdAt: string;
  active: boolean;
  /** The author's note, when one was given on upload. */
  note?: string;
}

export interface PolicyVersionDetail extends PolicyVersionView {
  sources: PolicySource[];
}

export interface FileDiff {
  file: string;
  status: 'added' | 'removed' | 'modified';
  /** Unified diff of the file between the two versions. */
  patch: string;
}

export interface ActivePolicy {
  version: number;
  engine: Engine;
  row: PolicyVersionRow;
  /** Each policy's `quarantine` setting, by policy name. */
  quarantine: Map<string, QuarantineSetting>;
  /** `role\u0000tool` of the tools whose results are recorded with their outcomes (`recordResult: true`). */
  recordResults: Set<string>;
}

/**
 * Policy versions: integer versions of whole bundles, validated on upload, activated atomically
 * (the database first, then the engine swap), pushed to subscribers on activation. All versions
 * share one counter store, so activating a new version does not reset any budget.
 */
export class PolicyService {
  private current: ActivePolicy | undefined;
  /** Limit kinds of stored versions, by version (refuseKindChanges). */
  private readonly limitKinds = new Map<number, Map<string, LimitKindEntry>>();
  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly counters: CounterStore,
    private readonly lock: Locks = new KeyedLock(),
    /** Novelty state, shared by every version like the counters. */
    private readonly seen: SeenStore = new MemorySeenStore(),
  ) {}

  /** Compiles the version that was active when the server last stopped. */
  async load(): Promise<void> {
    const [latest] = await this.store.listPolicyActivations(1);
    if (!latest) return;
    const row = await this.store.getPolicyVersion(latest.version);
    if (!row) throw new Error(`active policy version ${latest.version} is missing`);
    this.current = this.activeOf(row);
  }

  active(): ActivePolicy | undefined {
    return this.current;
  }

  /** The strictest quarantine among these policies of the active version: fewest blocks, then the longest window. */
  quarantineFor(policies: readonly string[]): QuarantineSetting | undefined {
    let strictest: QuarantineSetting | undefined;
    for (const name of policies) {
      const setting = this.current?.quarantine.get(name);
      if (setting && (!strictest || setting.blocks < strictest.blocks || (setting.blocks === strictest.blocks && setting.withinMs > strictest.withinMs))) strictest = setting;
    }
    return strictest;
  }

  /** The strictest quarantine of the active version's policies for a role. */
  quarantineForRole(role: string): QuarantineSetting | undefined {
    const names = [...(this.current?.quarantine.values() ?? [])].filter((setting) => setting.roles.includes(role)).map((setting) => setting.policy);
    return this.quarantineFor(names);
  }

  activeEvent(): PolicyEvent | undefined {
    return this.current ? policyEvent(this.current.row) : undefined;
  }

  /**
   * Dry run: parses and compiles, throws `invalid_policy` with every problem found. `warnings` are
   * the findings of `policy check` (gaps, overlaps, shadowed and unreachable rules): a bundle with
   * warnings is still valid.
   */
  validate(bundle: string, sources: PolicySource[]): { bundle: string; digest: string; policies: string[]; warnings: Finding[] } {
    const engine = this.build(bundle, sources, 0);
    return { bundle, digest: digestOf(bundle, sources), policies: [...engine.policies], warnings: checkSources(sources, bundle).findings };
  }

  /** Stores a new inactive version; the answer carries the `policy check` findings as `warnings`. */
  async upload(actor: string, bundle: string, sources: PolicySource[], note?: string): Promise<PolicyVersionDetail & { warnings: Finding[] }> {
    // One parse for the compile check and the limit kinds.
    const parsed = loading(() => {
      const bundleParsed = parseBundle(sources, bundle);
      this.compileParsed(bundleParsed, 0);
      return bundleParsed;
    });
    const warnings = checkSources(sources, bundle).findings;
    const kinds = limitKindsOf(parsed.policies);
    return this.lock.run('policies', async () => {
      const versions = await this.store.listPolicyVersions();
      this.refuseKindChanges(kinds, versions, undefined);
      const row: PolicyVersionRow = {
        version: (versions[versions.length - 1]?.version ?? 0) + 1,
        bundle,
        sources: JSON.stringify(sources),
        digest: digestOf(bundle, sources),
        created_by: actor,
        created_at: this.clock.now(),
        ...(note ? { note } : {}),
      };
      await this.writer.append([
        {
          record: {
            type: 'policy.uploaded',
            at: row.created_at,
            actor,
            data: { version: row.version, bundle, digest: row.digest, files: sources.map((s) => s.file), sourcesHash: sha256Hex(canonicalJson(sources)), ...(note ? { note } : {}) },
          },
          writes: [{ kind: 'policy.insert', row }],
        },
      ]);
      return { ...detail(row, false), warnings };
    });
  }

  async list(): Promise<PolicyVersionView[]> {
    const active = this.current?.version;
    return (await this.store.listPolicyVersions()).map((row) => view(row, row.version === active));
  }

  async get(version: number): Promise<PolicyVersionDetail> {
    const row = await this.store.getPolicyVersion(version);
    if (!row) throw notFound(`policy version ${version}`);
    return detail(row, row.version === this.current?.version);
  }

  async diff(from: number, to: number): Promise<{ from: number; to: number; files: FileDiff[] }> {
    const [a, b] = await Promise.all([this.get(from), this.get(to)]);
    const before = new Map(a.sources.map((s) => [s.file, s.text]));
    const after = new Map(b.sources.map((s) => [s.file, s.text]));
    const names = [...new Set([...before.keys(), ...after.keys()])].sort();
    const files: FileDiff[] = [];
    for (const file of names) {
      const old = before.get(file);
      const next = after.get(file);
      if (old === next) continue;
      files.push({
        file,
        status: old === undefined ? 'added' : next === undefined ? 'removed' : 'modified',
        patch: filePatch(file, old ?? '', next ?? '', `version ${from}`, `version ${to}`),
      });
    }
    return { from, to, files };
  }

  async activate(actor: string, version: number): Promise<PolicyVersionView> {
    return this.lock.run('policies', () => this.activateLocked(actor, version, 'activate'));
  }

  /** Re-activates the version that was active before the current one. */
  async rollback(actor: string): Promise<PolicyVersionView> {
    return this.lock.run('policies', async () => {
      const activations = await this.store.listPolicyActivations(1000);
      const current = activations[0]?.version;
      const previous = activations.find((a) => a.version !== current);
      if (!previous) throw new AirlockError('no_previous_version', 'no earlier version was ever active');
      return this.activateLocked(actor, previous.version, 'rollback');
    });
  }

  private async activateLocked(actor: string, version: number, how: 'activate' | 'rollback'): Promise<PolicyVersionView> {
    const row = await this.store.getPolicyVersion(version);
    if (!row) throw notFound(`policy version ${version}`);
    const next = this.activeOf(row);
    // Versions stored before uploads were checked for this may still disagree.
    this.refuseKindChanges(this.kindsOf(row), await this.store.listPolicyVersions(), version);
    const [latest] = await this.store.listPolicyActivations(1);
    const at = this.clock.now();
    await this.writer.append([
      {
        record: { type: 'policy.activated', at, actor, data: { version, bundle: row.bundle, digest: row.digest, previous: this.current?.version ?? null, how } },
        writes: [{ kind: 'policy.activate', row: { id: (latest?.id ?? 0) + 1, version, activated_at: at, activated_by: actor } }],
      },
    ]);
    // Durable first, then swap: a crash in between restarts on the version the database names.
    this.current = next;
    this.events.publish({ type: 'policy', data: policyEvent(row) });
    return view(row, true);
  }

  /**
   * Refuses a version in which a limit is of another kind than under the same policy and id in a
   * stored version (`except` aside): its counter key is [policy, id, …values] whatever the kind, so
   * the counters would mix calls, budget units and list items — a rate turned budget would count
   * each earlier call as a millionth of a unit and hand out the whole budget again.
   */
  private refuseKindChanges(kinds: Map<string, LimitKindEntry>, versions: readonly PolicyVersionRow[], except: number | undefined): void {
    for (const stored of versions) {
      if (stored.version === except) continue;
      for (const [key, earlier] of this.kindsOf(stored)) {
        const now = kinds.get(key);
        if (now === undefined || now.kind === earlier.kind) continue;
        throw new AirlockError(
          'limit_kind_changed',
          `limit '${now.id}' of policy '${now.policy}' is a ${now.kind} limit here but a ${earlier.kind} limit in version ${stored.version}: under one id they would share counters (calls, amounts and list items added together); give the ${now.kind} limit a new id`,
          { policy: now.policy, limit: now.id, kind: now.kind, previousKind: earlier.kind, version: stored.version },
        );
      }
    }
  }

  /** A stored version's limit kinds, parsed once (versions never change); none when it no longer parses. */
  private kindsOf(row: PolicyVersionRow): Map<string, LimitKindEntry> {
    let kinds = this.limitKinds.get(row.version);
    if (kinds === undefined) {
      try {
        kinds = limitKindsOf(parseBundle(sourcesOf(row), row.bundle).policies);
      } catch {
        kinds = new Map();
      }
      this.limitKinds.set(row.version, kinds);
    }
    return kinds;
  }

  private build(bundle: string, sources: PolicySource[], version: number): Engine {
    return loading(() => this.compileParsed(parseBundle(sources, bundle), version));
  }

  /** A stored version, compiled against the live state, with its quarantine settings: one parse for both. */
  private activeOf(row: PolicyVersionRow): ActivePolicy {
    return loading(() => {
      const parsed = parseBundle(sourcesOf(row), row.bundle);
      return { version: row.version, engine: this.compileParsed(parsed, row.version), row, quarantine: quarantineOf(parsed), recordResults: recordResultsOf(parsed) };
    });
  }

  private compileParsed(parsed: PolicyBundle, version: number): Engine {
    return compile(parsed, { counters: this.counters, seen: this.seen, version, clock: () => this.clock.now() });
  }

  /** Parses and checks a bundle without compiling it against the live limit state; throws `invalid_policy`. */
  parse(bundle: string, sources: PolicySource[]): PolicyBundle {
    return loading(() => {
      const parsed = parseBundle(sources, bundle);
      compile(parsed);
      return parsed;
    });
  }
}

interface LimitKindEntry {
  policy: string;
  id: string;
  kind: LimitKind;
}

/** Every limit of the policies (top level and per environment) by "<policy> <id>", with its kind (as compile-bundle decides it). */
function limitKindsOf(policies: PolicyBundle['policies']): Map<string, LimitKindEntry> {
  const kinds = new Map<string, LimitKindEntry>();
  for (const { document } of policies) {
    for (const limit of limitsOf(document)) kinds.set(`${document.policy}\u0000${limit.id}`, { policy: document.policy, id: limit.id, kind: limitKindOf(limit) });
  }
  return kinds;
}

/** Runs a bundle load, turning its load errors into `invalid_policy` with every problem by file and line. */
function loading<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (PolicyLoadError.isInstance(error)) {
      throw new AirlockError('invalid_policy', `the policy bundle has ${error.errors.length} error(s)`, {
        errors: error.errors.map((e) => ({
          code: e.code,
          file: e.file,
          line: e.line ?? null,
          column: e.column ?? null,
          path: e.path ?? null,
          message: e.message,
          ...(e.detail !== undefined ? { detail: e.detail } : {}),
        })),
      });
    }
    throw error;
  }
}

function sourcesOf(row: PolicyVersionRow): PolicySource[] {
  return JSON.parse(row.sources) as PolicySource[];
}

/** Full sha256 over the bundle name and the exact sources. */
function digestOf(bundle: string, sources: PolicySource[]): string {
  return sha256Hex(canonicalJson({ bundle, sources }));
}

function view(row: PolicyVersionRow, active: boolean): PolicyVersionView {
  return {
    version: row.version,
    bundle: row.bundle,
    digest: row.digest,
    files: sourcesOf(row).map((s) => s.file),
    createdBy: row.created_by,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    active,
    ...(row.note ? { note: row.note } : {}),
  };
}

function detail(row: PolicyVersionRow, active: boolean): PolicyVersionDetail {
  return { ...view(row, active), sources: sourcesOf(row) };
}

function policyEvent(row: PolicyVersionRow): PolicyEvent {
  return { version: row.version, digest: row.digest, bundle: row.bundle, sources: sourcesOf(row) };
}

function recordResultsOf(bundle: PolicyBundle): Set<string> {
  const tools = new Set<string>();
  for (const policy of bundle.policies) {
    for (const [tool, definition] of Object.entries(policy.document.tools)) {
      if (definition.recordResult === true) for (const role of policy.document.appliesTo.roles) tools.add(`${role}\u0000${tool}`);
    }
  }
  return tools;
}

function quarantineOf(bundle: PolicyBundle): Map<string, QuarantineSetting> {
  const settings = new Map<string, QuarantineSetting>();
  for (const policy of bundle.policies) {
    const setting = quarantineSetting(policy.document.policy, policy.document.appliesTo.roles, policy.document.quarantine);
    if (setting) settings.set(policy.document.policy, setting);
  }
  return settings;
}
