// The live SigningPolicies and SigningPolicyGrants (docs/signing-policies.md): watched like chains-config, resolved
// per run at signing time, and reported back in each policy's status. Without the CRDs (a cluster that only ran
// Chains) or without RBAC to read them, every run is signed under chains-config alone, as before, and the store
// looks again every minute.
import type { Logger } from 'winston';
import type { ChainsConfig, StorageName } from '../config/types.js';
import { configuredStorageNames, SETTINGLESS_STORAGE } from '../storage/index.js';
import { ChainsmithError, messageOf } from '../errors.js';
import { KubeApiError, type KubeClient, type KubeObject, type ResourceType } from '../kube/client.js';
import type { ControllerMetrics } from '../observability/metrics.js';
import {
  policyConfig,
  policyStatus,
  policyVerdict,
  readSigningPolicy,
  readSigningPolicyGrant,
  selectPolicy,
  staticConflicts,
  statusEqual,
} from '../policy/index.js';
import {
  POLICY_GROUP,
  POLICY_VERSION,
  type PolicyConfig,
  type PolicyVerdict,
  type SigningPolicy,
  type SigningPolicyGrant,
} from '../policy/types.js';
import { Informer } from './informer.js';

export const SIGNING_POLICIES: ResourceType = {
  group: POLICY_GROUP,
  version: POLICY_VERSION,
  plural: 'signingpolicies',
  kind: 'SigningPolicy',
};
export const SIGNING_POLICY_GRANTS: ResourceType = {
  group: POLICY_GROUP,
  version: POLICY_VERSION,
  plural: 'signingpolicygrants',
  kind: 'SigningPolicyGrant',
};

/** How often a missing CRD (or a 403) is looked for again. */
const PROBE_INTERVAL_MS = 60_000;
/** Status writes are batched this long after a change. */
const STATUS_DEBOUNCE_MS = 250;
/** Status writes in flight at once. */
const STATUS_WRITERS = 8;

/** What a run is signed under. */
export type PolicyResolution =
  | { kind: 'default' }
  | { kind: 'policy'; policy: SigningPolicy; config: PolicyConfig; signer: string }
  | {
      kind: 'blocked';
      reason: 'PolicyConflict' | 'PolicyRefused';
      message: string;
      /** the policies involved, for metrics */
      policies: string[];
    };

export interface PolicyStoreOptions {
  client: KubeClient;
  /** the namespaces the controller watches (empty: all) */
  namespaces: string[];
  /** chains-config as parsed, and the ConfigMap data it came from */
  base: () => { config: ChainsConfig; data: Record<string, string> } | undefined;
  parse: (data: Record<string, string>) => ChainsConfig;
  metrics: ControllerMetrics;
  logger: Logger;
  now?: () => Date;
}

interface Derived {
  /** policy uid + generation + the grants' and chains-config's versions it was computed for */
  key: string;
  verdict: PolicyVerdict;
  config?: PolicyConfig;
}

/** Holds the policies and grants; resolves runs; writes policy status. */
export class PolicyStore {
  private readonly byNamespace = new Map<string, Map<string, SigningPolicy>>();
  private readonly grants = new Map<string, SigningPolicyGrant>();
  private readonly derived = new Map<string, Derived>();
  /** conflicts seen on runs: policy key → the other policies (same namespace) a run matched as well */
  private readonly seenConflicts = new Map<string, Map<string, number>>();
  private readonly informers: Informer[] = [];
  private readonly listeners: Array<(namespaces: Set<string> | 'all') => void> = [];
  private grantsVersion = 0;
  private baseVersion = 0;
  private available = false;
  private stopped = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly dirty = new Set<string>();
  private readonly now: () => Date;

  constructor(private readonly o: PolicyStoreOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /** Whether the CRDs were found and are being watched. */
  get watching(): boolean {
    return this.available;
  }

  /** Called with the namespaces whose runs may now be signed differently. */
  onChange(listener: (namespaces: Set<string> | 'all') => void): void {
    this.listeners.push(listener);
  }

  /** Finds the CRDs and starts watching; resolves after the first lists (or at once when there are no CRDs). */
  async start(): Promise<void> {
    if (await this.probe()) await this.watch();
  }

  stop(): void {
    this.stopped = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    for (const i of this.informers) i.stop();
  }

  /** chains-config changed: every policy's effective config is recomputed on next use. */
  baseChanged(): void {
    this.baseVersion++;
    this.markAllDirty();
  }

  /** Whether any policy exists in `namespace` (runs elsewhere need no labels and no resolution). */
  has(namespace: string): boolean {
    return (this.byNamespace.get(namespace)?.size ?? 0) > 0;
  }

  /** The configuration a run of `namespace` with `labels` is signed under. */
  resolve(namespace: string, labels: Record<string, string>): PolicyResolution {
    const policies = this.byNamespace.get(namespace);
    if (!policies || policies.size === 0) return { kind: 'default' };
    const selection = selectPolicy([...policies.values()], labels);
    if (selection.kind === 'default') return selection;
    if (selection.kind === 'conflict') {
      this.noteConflict(selection.policies);
      return {
        kind: 'blocked',
        reason: 'PolicyConflict',
        message: selection.message,
        policies: selection.policies.map((p) => p.metadata.name),
      };
    }
    const policy = selection.policy;
    const d = this.derive(policy);
    if (!d.verdict.ok || !d.config) {
      const why = d.verdict.ok ? 'its configuration could not be built' : d.verdict.message;
      return {
        kind: 'blocked',
        reason: 'PolicyRefused',
        message: `SigningPolicy ${namespace}/${policy.metadata.name} is refused: ${why}`,
        policies: [policy.metadata.name],
      };
    }
    return { kind: 'policy', policy, config: d.config, signer: d.verdict.signerDescription };
  }

  private async probe(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      await this.o.client.list(SIGNING_POLICIES, undefined, { limit: 1 });
      await this.o.client.list(SIGNING_POLICY_GRANTS, undefined, { limit: 1 });
      return true;
    } catch (err) {
      const status = err instanceof KubeApiError ? err.status : 0;
      const why =
        status === 404
          ? 'the chainsmith.dev CRDs are not installed (manifests/crds)'
          : status === 403
            ? 'the controller may not list them (manifests/rbac.yaml grants it)'
            : messageOf(err);
      this.o.logger.warn('SigningPolicies are not available; every run is signed under chains-config', {
        why,
        retryInMs: PROBE_INTERVAL_MS,
      });
      this.probeTimer = setTimeout(() => {
        void this.probe().then((ok) => (ok ? this.watch() : undefined));
      }, PROBE_INTERVAL_MS);
      this.probeTimer.unref();
      return false;
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped || this.available) return;
    this.available = true;
    const scopes = this.o.namespaces.length > 0 ? this.o.namespaces : [undefined];
    for (const ns of scopes) {
      this.informers.push(
        new Informer({
          client: this.o.client,
          resource: SIGNING_POLICIES,
          ...(ns ? { namespace: ns } : {}),
          logger: this.o.logger,
          handlers: {
            upsert: (obj) => this.upsertPolicy(obj),
            remove: (obj) => this.removePolicy(obj),
            relisted: (uids) => this.relistedPolicies(uids, ns),
          },
        }),
      );
    }
    this.informers.push(
      new Informer({
        client: this.o.client,
        resource: SIGNING_POLICY_GRANTS,
        logger: this.o.logger,
        handlers: {
          upsert: (obj) => this.upsertGrant(obj),
          remove: (obj) => this.removeGrant(obj),
          relisted: (uids) => {
            for (const [name, g] of this.grants) if (!uids.has(g.metadata.uid ?? '')) this.grants.delete(name);
            this.grantsChanged();
          },
        },
      }),
    );
    await Promise.all(this.informers.map((i) => i.start()));
    this.o.logger.info('watching SigningPolicies', {
      policies: this.count(),
      grants: this.grants.size,
    });
    this.markAllDirty();
    this.notify('all');
  }

  private upsertPolicy(obj: KubeObject): void {
    let policy: SigningPolicy;
    try {
      policy = readSigningPolicy(obj);
    } catch (err) {
      // the CRD's schema makes this rare (an older CRD, a hand-edited object): the policy is ignored and said so
      this.o.logger.warn('ignoring an unreadable SigningPolicy', {
        namespace: obj.metadata?.namespace,
        name: obj.metadata?.name,
        error: messageOf(err),
      });
      return;
    }
    const ns = policy.metadata.namespace;
    let m = this.byNamespace.get(ns);
    if (!m) this.byNamespace.set(ns, (m = new Map()));
    const prev = m.get(policy.metadata.name);
    m.set(policy.metadata.name, policy);
    const changed = !prev || prev.metadata.generation !== policy.metadata.generation;
    if (changed) {
      this.forgetConflictsOf(ns, policy.metadata.name);
      this.markNamespaceDirty(ns);
      this.notify(new Set([ns]));
    } else if (!statusEqual(prev.status, policy.status)) {
      // someone else's status write (or ours): make sure it says what we think
      this.dirty.add(keyOf(ns, policy.metadata.name));
      this.scheduleStatus();
    }
  }

  private removePolicy(obj: KubeObject): void {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    const m = this.byNamespace.get(ns);
    if (!m?.delete(name)) return;
    if (m.size === 0) this.byNamespace.delete(ns);
    this.derived.delete(keyOf(ns, name));
    this.forgetConflictsOf(ns, name);
    this.markNamespaceDirty(ns);
    this.notify(new Set([ns]));
  }

  private relistedPolicies(uids: Set<string>, scope: string | undefined): void {
    const gone = new Set<string>();
    for (const [ns, m] of this.byNamespace) {
      if (scope !== undefined && ns !== scope) continue;
      for (const [name, p] of m) {
        if (uids.has(p.metadata.uid ?? '')) continue;
        m.delete(name);
        this.derived.delete(keyOf(ns, name));
        gone.add(ns);
      }
      if (m.size === 0) this.byNamespace.delete(ns);
    }
    if (gone.size > 0) {
      for (const ns of gone) this.markNamespaceDirty(ns);
      this.notify(gone);
    }
  }

  private upsertGrant(obj: KubeObject): void {
    let grant: SigningPolicyGrant;
    try {
      grant = readSigningPolicyGrant(obj);
    } catch (err) {
      this.o.logger.warn('ignoring an unreadable SigningPolicyGrant', {
        name: obj.metadata?.name,
        error: messageOf(err),
      });
      return;
    }
    const prev = this.grants.get(grant.metadata.name);
    this.grants.set(grant.metadata.name, grant);
    if (!prev || prev.metadata.generation !== grant.metadata.generation) this.grantsChanged();
  }

  private removeGrant(obj: KubeObject): void {
    if (this.grants.delete(obj.metadata?.name ?? '')) this.grantsChanged();
  }

  private grantsChanged(): void {
    this.grantsVersion++;
    this.markAllDirty();
    this.notify('all');
  }

  private derive(policy: SigningPolicy): Derived {
    const k = keyOf(policy.metadata.namespace, policy.metadata.name);
    const { uid, generation } = policy.metadata;
    const key = `${uid ?? ''}:${generation ?? 0}:${this.grantsVersion}:${this.baseVersion}`;
    const cached = this.derived.get(k);
    if (cached?.key === key) return cached;
    const base = this.o.base();
    let d: Derived;
    if (!base) {
      d = { key: '', verdict: { ok: false, reason: 'Invalid', message: 'chains-config is not loaded yet' } };
    } else {
      try {
        const verdict = policyVerdict(policy, [...this.grants.values()], base.data, this.o.parse, base.config);
        d = { key, verdict };
        if (verdict.ok) {
          const config = policyConfig(policy, base.data, this.o.parse);
          const missing = unconfiguredBackends(config, base.config);
          if (missing.length === 0) d.config = config;
          else
            d = {
              key,
              verdict: {
                ok: false,
                reason: 'Invalid',
                message:
                  `storage ${missing.map((m) => `"${m}"`).join(', ')} is not used by chains-config, which holds ` +
                  `its settings: a SigningPolicy may choose ${SETTINGLESS_STORAGE.join(', ')} or a backend ` +
                  'chains-config already uses',
                signerDescription: verdict.signerDescription,
              },
            };
        }
      } catch (err) {
        d = { key, verdict: { ok: false, reason: 'Invalid', message: messageOf(err) } };
      }
    }
    if (d.key) this.derived.set(k, d);
    return d;
  }

  private noteConflict(policies: SigningPolicy[]): void {
    let added = false;
    for (const p of policies) {
      const k = keyOf(p.metadata.namespace, p.metadata.name);
      let others = this.seenConflicts.get(k);
      if (!others) this.seenConflicts.set(k, (others = new Map()));
      for (const q of policies) {
        if (q === p || others.has(q.metadata.name)) continue;
        others.set(q.metadata.name, q.metadata.generation ?? 0);
        added = true;
      }
      if (added) this.dirty.add(k);
    }
    if (added) this.scheduleStatus();
  }

  private forgetConflictsOf(ns: string, name: string): void {
    this.seenConflicts.delete(keyOf(ns, name));
    for (const [k, others] of this.seenConflicts) {
      if (!k.startsWith(`${ns}/`) || !others.delete(name)) continue;
      this.dirty.add(k);
      if (others.size === 0) this.seenConflicts.delete(k);
    }
  }

  private markNamespaceDirty(ns: string): void {
    for (const name of this.byNamespace.get(ns)?.keys() ?? []) this.dirty.add(keyOf(ns, name));
    this.scheduleStatus();
  }

  private markAllDirty(): void {
    for (const ns of this.byNamespace.keys()) this.markNamespaceDirty(ns);
  }

  private notify(namespaces: Set<string> | 'all'): void {
    for (const l of this.listeners) {
      try {
        l(namespaces);
      } catch (err) {
        this.o.logger.error('policy change listener failed', { error: messageOf(err) });
      }
    }
  }

  private scheduleStatus(): void {
    if (this.statusTimer || this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      void this.writeStatuses();
    }, STATUS_DEBOUNCE_MS);
    this.statusTimer.unref();
  }

  /** Writes the status of every policy marked dirty whose status differs from what it should be. */
  private async writeStatuses(): Promise<void> {
    const keys = [...this.dirty];
    this.dirty.clear();
    const counts = { ready: 0, refused: 0, conflict: 0 };
    // a few writes in flight: 400 policies at start-up took 8 s one after the other (bench/findings-policies.md)
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) await this.writeStatus(keys[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(STATUS_WRITERS, keys.length) }, worker));
    for (const m of this.byNamespace.values())
      for (const p of m.values()) {
        const d = this.derive(p);
        const conflict = p.status?.conditions?.some((c) => c.type === 'Conflict' && c.status === 'True');
        if (conflict) counts.conflict++;
        else if (d.verdict.ok) counts.ready++;
        else counts.refused++;
      }
    for (const [state, n] of Object.entries(counts)) this.o.metrics.signingPolicies.labels(state).set(n);
    if (this.dirty.size > 0) {
      // a failed write is tried again, later
      this.statusTimer = setTimeout(() => {
        this.statusTimer = undefined;
        void this.writeStatuses();
      }, 5_000);
      this.statusTimer.unref();
    }
  }

  /** Writes one policy's status when it differs from what it should be; a failed write stays dirty. */
  private async writeStatus(k: string): Promise<void> {
    const [ns, name] = splitKey(k);
    const policy = this.byNamespace.get(ns)?.get(name);
    if (!policy) return;
    const d = this.derive(policy);
    const statics = staticConflicts([...(this.byNamespace.get(ns)?.values() ?? [])]).get(name) ?? [];
    const seen = [...(this.seenConflicts.get(k)?.keys() ?? [])];
    const conflictsWith = [...new Set([...statics, ...seen])].sort();
    const next = policyStatus(policy.status, {
      generation: policy.metadata.generation ?? 0,
      verdict: d.verdict,
      conflictsWith,
      now: this.now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    });
    if (statusEqual(policy.status, next)) return;
    try {
      // a merge patch keeps what it does not name: a signer no longer known must be removed, or the status read
      // back never equals `next` and is written again and again
      const body = next.signer === undefined && policy.status?.signer !== undefined ? { ...next, signer: null } : next;
      await this.o.client.mergePatchStatus(SIGNING_POLICIES, ns, name, { status: body });
      policy.status = next;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return; // deleted meanwhile
      this.o.logger.warn('could not write a SigningPolicy status', {
        namespace: ns,
        name,
        error: messageOf(err),
      });
      this.dirty.add(k);
    }
  }

  private count(): number {
    let n = 0;
    for (const m of this.byNamespace.values()) n += m.size;
    return n;
  }
}

/** Backends the policy's config uses that need settings chains-config does not use (so no client exists). */
function unconfiguredBackends(config: ChainsConfig, base: ChainsConfig): StorageName[] {
  const available = new Set<StorageName>([...configuredStorageNames(base), ...SETTINGLESS_STORAGE]);
  return configuredStorageNames(config).filter((n) => !available.has(n));
}

function keyOf(ns: string, name: string): string {
  return `${ns}/${name}`;
}

function splitKey(k: string): [string, string] {
  const i = k.indexOf('/');
  return [k.slice(0, i), k.slice(i + 1)];
}

/** The error a blocked run's attempt fails with (non-transient: retrying does not help until a policy changes). */
export function blockedError(r: Extract<PolicyResolution, { kind: 'blocked' }>): ChainsmithError {
  return new ChainsmithError(r.reason, r.message);
}
