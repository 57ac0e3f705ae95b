// The controller process: informers feed a small run cache, events that need work go to the queue (live lane
// for watch events, backlog lane for the initial list), workers reconcile while this replica holds the Lease,
// and the ops server reports health, readiness and metrics. SIGTERM: stop taking work, finish in-flight items
// (bounded), flush Events, give the Lease up.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'winston';
import type { ClusterConnection } from '../kube/kubeconfig.js';
import type { ChainsConfig, StorageName } from '../config/types.js';
import { messageOf } from '../errors.js';
import { KubernetesCredentialSource, type RegistryCredentialSource } from '../kube/registry-credentials.js';
import { KeyedMutex } from '../oci/keyed-mutex.js';
import { KubeEventSink, type EventSink } from '../observability/events.js';
import { runFields } from '../observability/logger.js';
import { ControllerMetrics } from '../observability/metrics.js';
import { startOpsServer } from '../observability/server.js';
import { SignerRegistry, type KeylessSignerConfig, type SecretKeyData } from '../signing/index.js';
import type { Signer } from '../signing/signer.js';
import { buildStorers, closeReplacedStorers, SETTINGLESS_STORAGE } from '../storage/index.js';
import type { Storer } from '../storage/storer.js';
import type { Run } from '../tekton/types.js';
import { ConfigStore } from './config-store.js';
import { decide } from './decide.js';
import { Informer, type InformerPhase } from './informer.js';
import {
  KubeClient,
  PIPELINERUNS,
  SECRETS,
  SERVICEACCOUNTS,
  TASKRUNS,
  type KubeObject,
  type ResourceType,
} from '../kube/client.js';
import { PolicyStore } from './policy-store.js';
import { LeaderElector } from './leader.js';
import { BucketElector, bucketOf } from './buckets.js';
import { LeaderElectionConfigSource } from './leader-config.js';
import { collectGarbage } from './memory.js';
import { TokenBucket } from '../kube/rate-limiter.js';
import { Reconciler } from './reconciler.js';
import { MarkVerifier } from '../pipeline/mark-trust.js';
import { SIGNED_ANNOTATION, type RunKind } from '../tekton/annotations.js';
import { isReconciled, RunCache, type CachedRun } from './run-cache.js';
import type { SigningDeps } from '../pipeline/sign-run.js';
import { realSigningDeps } from '../pipeline/signing-deps.js';
import type { RekorLogKey } from '../verify/tlog.js';
import { WorkQueue, type Lane } from './work-queue.js';

/** How soon a run of a bucket whose Lease renewal is overdue is looked at again. */
const OVERDUE_RECHECK_MS = 250;

/** Workers added while transparency is on (`--tlog-workers`); bench/findings-transparency.md measured the need. */
export const DEFAULT_TLOG_WORKERS = 48;

export interface ControllerOptions {
  connection: ClusterConnection;
  logger: Logger;
  /** namespaces to watch; empty = all */
  namespaces: string[];
  systemNamespace: string;
  signingSecretsDir: string;
  workers: number;
  /**
   * extra workers that take runs only while `transparency.enabled` is on: a run then spends most of its time
   * waiting for Rekor (~0.2 s locally, more for a remote log), which would otherwise idle the CPU (default 48)
   */
  tlogWorkers?: number;
  qps: number;
  burst: number;
  metricsAddr: string;
  leaderElect: boolean;
  leaseName: string;
  parseConfig: (data: Record<string, string>) => ChainsConfig;
  defaultConfig: ChainsConfig;
  kmsFactory?: (cfg: ChainsConfig['signers']['kms']) => Promise<Signer>;
  keylessFactory?: (cfg: KeylessSignerConfig) => Signer;
  /** Rekor's public key: every transparency-log entry must carry its SET (`SIGSTORE_REKOR_PUBLIC_KEY`) */
  rekorKey?: RekorLogKey;
  /** replaces the real signing modules (tests) */
  signing?: (c: { storers: () => ReadonlyMap<StorageName, Storer> }) => SigningDeps;
  credentials?: RegistryCredentialSource;
  childWaitMs?: number;
  /** how long SIGTERM waits for in-flight runs (default 20 s) */
  drainTimeoutMs?: number;
  identity?: string;
  /** the leader-election ConfigMap's name (`CONFIG_LEADERELECTION_NAME`; default Chains' name, then knative's) */
  leaderElectionConfigName?: string;
}

/** The running controller. */
export class Controller {
  readonly metrics = new ControllerMetrics();
  /** which signed marks to believe: verified with the configured signer's key (mark-trust.ts) */
  readonly marks = new MarkVerifier();
  readonly cache = new RunCache(undefined, this.marks);
  readonly queue = new WorkQueue();
  private readonly client: KubeClient;
  private readonly events: EventSink;
  private readonly configStore: ConfigStore;
  private readonly signers: SignerRegistry;
  private readonly policies: PolicyStore;
  private readonly reconciler: Reconciler;
  private readonly signing: SigningDeps;
  private readonly informers: Informer[] = [];
  /** `buckets: 1`: one Lease, one active replica */
  private elector: LeaderElector | undefined;
  /** `buckets: N > 1`: this replica's share of N bucket Leases (buckets.ts) */
  private buckets: BucketElector | undefined;
  private electionConfig: LeaderElectionConfigSource | undefined;
  /** runs being reconciled per bucket: a bucket given away waits for them */
  private readonly inFlightByBucket = new Map<number, number>();
  private readonly identity: string;
  private storers: ReadonlyMap<StorageName, Storer> = new Map();
  private readonly locks = new KeyedMutex();
  private readonly credentials: RegistryCredentialSource;
  private leading = false;
  private leadWaiters: Array<() => void> = [];
  /** tlog-only workers waiting for transparency to be turned on (or for shutdown) */
  private tlogWaiters: Array<() => void> = [];
  private stopping = false;
  private workers: Promise<void>[] = [];
  private synced = false;
  private server: Server | undefined;
  private gaugeTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  port = 0;

  constructor(private readonly o: ControllerOptions) {
    this.log = o.logger;
    const limiter = new TokenBucket(o.qps, o.burst);
    this.client = new KubeClient(o.connection, {
      limiter,
      onRequest: (verb, resource) => {
        this.metrics.apiRequests.labels(verb).inc();
        if (resource === 'leases') this.metrics.leaseRequests.labels(verb).inc();
      },
    });
    this.events = new KubeEventSink(this.client, this.log);
    this.credentials = o.credentials ?? new KubernetesCredentialSource({ client: this.client, logger: this.log });
    this.configStore = new ConfigStore({
      client: this.client,
      namespace: o.systemNamespace,
      parse: o.parseConfig,
      defaults: o.defaultConfig,
      events: this.events,
      logger: this.log,
    });
    this.signers = new SignerRegistry({
      secretsDir: o.signingSecretsDir,
      secretReader: (name) => this.readSecret(name),
      tokenRequester: (ns, sa, audience) => this.requestToken(ns, sa, audience),
      ...(o.kmsFactory ? { kmsFactory: o.kmsFactory } : {}),
      ...(o.keylessFactory ? { keylessFactory: o.keylessFactory } : {}),
      logger: this.log,
    });
    const storers = () => this.storers;
    const signing = o.signing
      ? o.signing({ storers })
      : realSigningDeps({
          signers: this.signers,
          storers,
          credentials: this.credentials,
          metrics: this.metrics,
          logger: this.log,
          ...(o.rekorKey ? { rekorKey: o.rekorKey } : {}),
        });
    this.signing = signing;
    this.policies = new PolicyStore({
      client: this.client,
      namespaces: o.namespaces,
      base: () => {
        const config = this.configStore.current;
        return config ? { config, data: this.configStore.currentData } : undefined;
      },
      parse: o.parseConfig,
      metrics: this.metrics,
      logger: this.log,
    });
    this.reconciler = new Reconciler({
      cache: this.cache,
      client: this.client,
      config: () => this.configStore.current,
      policies: this.policies,
      signing,
      events: this.events,
      metrics: this.metrics,
      logger: this.log,
      ...(o.childWaitMs !== undefined ? { childWaitMs: o.childWaitMs } : {}),
    });
    this.identity = o.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  }

  /**
   * Reads the leader-election ConfigMap and prepares the election it asks for (started later, once synced):
   * `buckets: 1` one Lease, as always; more, a share of the bucket Leases.
   */
  private async prepareElection(): Promise<void> {
    const o = this.o;
    this.electionConfig = new LeaderElectionConfigSource({
      client: this.client,
      namespace: o.systemNamespace,
      ...(o.leaderElectionConfigName !== undefined ? { name: o.leaderElectionConfigName } : {}),
      logger: this.log,
      events: this.events,
    });
    const { buckets, timing } = await this.electionConfig.load();
    this.metrics.bucketsTotal.set(buckets);
    const common = { client: this.client, namespace: o.systemNamespace, identity: this.identity, logger: this.log };
    if (buckets <= 1) {
      this.elector = new LeaderElector({
        ...common,
        name: o.leaseName,
        timing,
        onStartedLeading: () => this.setLeading(true),
        onStoppedLeading: () => this.setLeading(false),
      });
      return;
    }
    this.buckets = new BucketElector({
      ...common,
      leaseName: o.leaseName,
      buckets,
      timing,
      onGained: (i) => this.bucketGained(i),
      onLost: () => this.bucketLost(),
      busy: (i) => (this.inFlightByBucket.get(i) ?? 0) > 0,
    });
  }

  /** The bucket of a run when work is shared by buckets, else undefined. */
  private bucketOfRun(run: { namespace: string; name: string }): number | undefined {
    return this.buckets ? bucketOf(run.namespace, run.name, this.buckets.total) : undefined;
  }

  /**
   * Whether `run` belongs in this replica's queue: always, unless buckets share the work and its bucket is not ours.
   * A bucket whose renewal is overdue is still ours until it is let go: its runs are queued (the worker holds them
   * back until the renewal succeeds), because a late renewal brings no "gained" event that would queue them again.
   */
  private owns(run: { namespace: string; name: string }): boolean {
    const b = this.bucketOfRun(run);
    return b === undefined || this.buckets!.assigned(b);
  }

  private bucketGained(i: number): void {
    this.metrics.bucketsHeld.set(this.buckets?.held().length ?? 0);
    if (!this.leading) this.setLeading(true);
    // every run of the bucket that needs work, behind live events (the other replica may have left many)
    let n = 0;
    for (const run of this.cache.values()) {
      if (this.bucketOfRun(run) !== i) continue;
      this.enqueueIfNeeded(run, 'backlog');
      n++;
    }
    this.log.debug('queued the runs of a gained bucket', { bucket: i, runs: n });
  }

  private bucketLost(): void {
    const held = this.buckets?.held().length ?? 0;
    this.metrics.bucketsHeld.set(held);
    if (held === 0 && this.leading) this.setLeading(false);
  }

  /** What `/readyz` says besides `ok`: the Lease or buckets this replica holds. */
  private readiness(): string {
    if (this.buckets) {
      const held = this.buckets.held();
      return `buckets held: ${held.length > 0 ? held.join(',') : 'none'} of ${this.buckets.total}`;
    }
    if (this.elector) return this.leading ? 'leader: holds the lease' : 'standby: another replica holds the lease';
    return 'leader election off';
  }

  /** Why the controller is not ready, or undefined when it is. */
  notReady(): string | undefined {
    if (!this.synced) return 'informers not synced';
    if (!this.configStore.current) return `no valid chains-config: ${this.configStore.problem ?? 'not loaded'}`;
    return undefined;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts everything; resolves once informers have synced. */
  async start(): Promise<void> {
    const ops = await startOpsServer({
      addr: this.o.metricsAddr,
      registry: this.metrics.registry,
      notReady: () => this.notReady(),
      readyDetail: () => this.readiness(),
    });
    this.server = ops.server;
    this.port = ops.port;
    this.log.info('serving /healthz, /readyz, /metrics', { port: this.port });

    this.configStore.onChange((config, previous) => this.configChanged(config, previous));
    this.signers.onChange(() => {
      this.rearmFailed('signing keys changed');
      void this.refreshMarkKeys();
    });
    await this.configStore.start();
    this.policies.onChange((namespaces) => this.policiesChanged(namespaces));
    // before the informers list: the first runs signed already see their namespace's policies
    await this.policies.start();
    if (this.o.leaderElect) await this.prepareElection();
    else this.metrics.bucketsTotal.set(1); // one replica doing all the work: one bucket, always held
    // before the informers list: every run listed is summarised with the key its mark is checked against
    await this.refreshMarkKeys();

    const scopes = this.o.namespaces.length > 0 ? this.o.namespaces : [undefined];
    for (const res of [TASKRUNS, PIPELINERUNS]) {
      for (const ns of scopes) this.informers.push(this.runInformer(res, ns));
    }
    await Promise.all(this.informers.map((i) => i.start()));
    this.synced = true;
    collectGarbage();
    this.log.info('informers synced', {
      runs: this.cache.size,
      namespaces: this.o.namespaces.length > 0 ? this.o.namespaces : 'all',
    });

    this.gaugeTimer = setInterval(() => this.updateGauges(), 1000);
    this.gaugeTimer.unref();
    for (let i = 0; i < this.o.workers; i++) this.workers.push(this.worker(false));
    for (let i = 0; i < (this.o.tlogWorkers ?? DEFAULT_TLOG_WORKERS); i++) this.workers.push(this.worker(true));
    if (this.elector) this.elector.start();
    else if (this.buckets) this.buckets.start();
    else this.setLeading(true);
  }

  /** Graceful stop: no new work, in-flight items finish (bounded), Events flushed, Lease released. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info('shutting down: finishing in-flight runs', { inFlight: this.queue.inFlight });
    for (const i of this.informers) i.stop();
    this.configStore.stop();
    this.policies.stop();
    this.queue.shutDown();
    for (const w of this.leadWaiters.splice(0)) w();
    for (const w of this.tlogWaiters.splice(0)) w();
    const drain = Promise.all(this.workers);
    const timeout = new Promise<'timeout'>((r) =>
      setTimeout(() => r('timeout'), this.o.drainTimeoutMs ?? 20_000).unref(),
    );
    if ((await Promise.race([drain.then(() => 'ok' as const), timeout])) === 'timeout') {
      this.log.warn('in-flight runs did not finish in time; they stay unsigned and are picked up by the next leader');
    }
    await this.events.flush();
    await this.elector?.release();
    await this.buckets?.release();
    this.electionConfig?.stop();
    this.client.close();
    this.signers.close();
    await closeReplacedStorers(this.storers, new Map(), this.log);
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    const closed = new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections(); // idle keep-alive scrapers must not hold the shutdown
    await closed;
    this.log.info('stopped');
  }

  private runInformer(res: ResourceType, namespace: string | undefined): Informer {
    const kind = res.kind as RunKind;
    return new Informer({
      client: this.client,
      resource: res,
      ...(namespace !== undefined ? { namespace } : {}),
      logger: this.log,
      // a big initial list would otherwise grow the heap to several pages' worth of garbage before V8 collects
      afterPage: (listed) => {
        if (listed % 2000 === 0) collectGarbage();
      },
      handlers: {
        upsert: (obj, phase) => this.onUpsert(obj, phase),
        remove: (obj) => this.onRemove(obj),
        relisted: (uids) => {
          for (const uid of this.cache.uids(kind, namespace !== undefined ? new Set([namespace]) : undefined)) {
            if (!uids.has(uid)) this.onRemove({ metadata: { uid } });
          }
        },
      },
    });
  }

  private onUpsert(obj: KubeObject, phase: InformerPhase): void {
    const { prev, cur } = this.cache.upsert(obj as unknown as Run);
    if (prev && prev.resourceVersion === cur.resourceVersion) return;
    this.reconciler.observed(cur.uid, cur.resourceVersion);
    this.enqueueIfNeeded(cur, phase === 'initial' ? 'backlog' : 'live');
    if (cur.kind === 'TaskRun') this.wakeParents(cur);
  }

  private onRemove(obj: KubeObject): void {
    const uid = obj.metadata?.uid;
    if (!uid) return;
    const prev = this.cache.delete(uid);
    this.reconciler.forget(uid);
    if (!prev) return;
    // judge by the object's last state as the server sent it (our marking patch may have been its last change)
    const last = obj.metadata?.name ? this.cache.summarise(obj as unknown as Run) : prev;
    const config = this.configStore.current;
    if (last.done && !isReconciled(last.annotations) && config && decide(last, config).action === 'sign') {
      // the window between completion and our finalizer (see docs/controller.md): deleted before we got to it
      this.metrics.deletedUnsigned.labels(prev.kind).inc();
      this.log.warn('run deleted before it could be signed', runFields(prev));
      this.events.record(
        { apiVersion: 'tekton.dev/v1', kind: prev.kind, namespace: prev.namespace, name: prev.name, uid: prev.uid },
        'Warning',
        'DeletedBeforeSigned',
        'the run was deleted after it completed but before chainsmith could put its finalizer on it; it was not signed',
      );
    }
    if (prev.kind === 'TaskRun') this.wakeParents(prev);
  }

  private enqueueIfNeeded(run: CachedRun, lane: Lane): void {
    if (!this.owns(run)) return; // another replica's bucket
    const d = decide(run, this.configStore.current);
    if (d.action === 'none') return;
    // protecting a running run is never more urgent than signing a completed one
    this.queue.add(run.uid, d.action === 'protect' ? 'backlog' : lane);
  }

  /** A child TaskRun changed: PipelineRuns waiting for it may proceed. */
  private wakeParents(child: CachedRun): void {
    const key = `${child.namespace}/${child.name}`;
    const waiting = this.reconciler.waitingParents.get(key);
    if (waiting) {
      this.reconciler.waitingParents.delete(key);
      for (const uid of waiting) this.queue.add(uid, 'live');
    }
    if (child.parentName) {
      const parent = this.cache.findByName('PipelineRun', child.namespace, child.parentName);
      if (parent && parent.done && !isReconciled(parent.annotations)) this.queue.add(parent.uid, 'live');
    }
  }

  /**
   * SigningPolicies or grants changed: runs not signed yet in those namespaces are looked at again (with the new
   * policies), and runs marked failed there are re-armed; signed runs are untouched.
   */
  private policiesChanged(namespaces: Set<string> | 'all'): void {
    if (!this.synced) return;
    let rearmed = 0;
    for (const run of this.cache.values()) {
      // a grant change ('all') matters only where policies are; a policy change names its namespace
      if (namespaces === 'all' ? !this.policies.has(run.namespace) : !namespaces.has(run.namespace)) continue;
      if (run.annotations[SIGNED_ANNOTATION] === 'failed') {
        this.reconciler.requestRearm(run.uid);
        this.queue.add(run.uid, 'backlog');
        rearmed++;
      } else this.enqueueIfNeeded(run, 'backlog');
    }
    if (rearmed > 0) this.log.info('re-arming runs marked failed', { trigger: 'SigningPolicy changed', runs: rearmed });
  }

  /**
   * A short-lived token of a tenant's ServiceAccount (TokenRequest API), for a SigningPolicy's keyless signer; needs
   * the opt-in manifests/components/keyless-tenants. Never logged.
   */
  private async requestToken(namespace: string, serviceAccount: string, audience: string): Promise<string> {
    const answer = await this.client.createSubresource<{ status?: { token?: string } }>(
      SERVICEACCOUNTS,
      namespace,
      serviceAccount,
      'token',
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [audience], expirationSeconds: 600 },
      },
    );
    const token = answer.status?.token;
    if (!token) throw new Error(`the TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    return token;
  }

  /** A Secret of the controller's namespace, for a SigningPolicy's x509 signer (never logged). */
  private async readSecret(name: string): Promise<SecretKeyData | undefined> {
    const secret = await this.client.get<{ metadata: { resourceVersion?: string }; data?: Record<string, string> }>(
      SECRETS,
      this.o.systemNamespace,
      name,
    );
    if (!secret) return undefined;
    const data: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64');
    return { version: secret.metadata.resourceVersion ?? '', data };
  }

  private configChanged(config: ChainsConfig, previous: ChainsConfig | undefined): void {
    this.policies.baseChanged();
    const replaced = this.storers;
    // oci and tekton need no settings: always there, for SigningPolicies that choose them
    this.storers = buildStorers(
      config,
      { credentials: this.credentials, logger: this.log, locks: this.locks, previous: replaced },
      SETTINGLESS_STORAGE,
    );
    void closeReplacedStorers(replaced, this.storers, this.log);
    if (config.transparency.enabled) for (const w of this.tlogWaiters.splice(0)) w();
    if (!this.synced) return; // the initial list enqueues with this config
    void this.refreshMarkKeys();
    // decisions may differ now (filters, disabled types): look at every run again, behind live work
    for (const run of this.cache.values()) this.enqueueIfNeeded(run, 'backlog');
    if (previous) this.rearmFailed('chains-config changed');
  }

  /** Re-arms every run marked `signed: "failed"` (an improvement over Chains: fixing the cause heals them). */
  private rearmFailed(trigger: string): void {
    let n = 0;
    for (const run of this.cache.values()) {
      if (run.annotations[SIGNED_ANNOTATION] !== 'failed') continue;
      this.reconciler.requestRearm(run.uid);
      this.queue.add(run.uid, 'backlog');
      n++;
    }
    if (n > 0) this.log.info('re-arming runs marked failed', { trigger, runs: n });
  }

  /** Reads the public keys signed marks are checked with, for the current config; logs what they are. */
  private async refreshMarkKeys(): Promise<void> {
    const config = this.configStore.current;
    if (!config) return;
    const state = await this.marks.refresh(config, (name, c) => this.signing.signer(name, c));
    for (const [kind, keys] of Object.entries(state)) {
      if (keys.mode === 'keys') this.log.info('signed marks are verified', { kind, signer: keys.signer });
      else if (keys.mode === 'unavailable') {
        this.log.warn('signed marks cannot be verified; trusting their evidence annotations', { kind, why: keys.why });
      }
    }
  }

  private setLeading(v: boolean): void {
    this.leading = v;
    this.metrics.leader.set(v ? 1 : 0);
    if (v) for (const w of this.leadWaiters.splice(0)) w();
  }

  private async worker(tlogOnly: boolean): Promise<void> {
    while (!this.stopping) {
      if (!this.leading) {
        await new Promise<void>((r) => this.leadWaiters.push(r));
        continue;
      }
      if (tlogOnly && !this.configStore.current?.transparency.enabled) {
        await new Promise<void>((r) => this.tlogWaiters.push(r));
        continue;
      }
      const key = await this.queue.get();
      if (key === undefined) return;
      if (!this.leading) {
        // lost the lease while waiting: hand the key back untouched
        this.queue.done(key);
        this.queue.add(key, 'live');
        continue;
      }
      const cached = this.cache.get(key);
      const bucket = cached ? this.bucketOfRun(cached) : undefined;
      if (bucket !== undefined && !this.buckets!.holds(bucket)) {
        this.queue.done(key);
        // renewal overdue but the bucket not let go: try again shortly (dropping it here lost runs when the renewal
        // then succeeded); a bucket gone to another replica: that one queues it (and we again if it comes back)
        if (this.buckets!.assigned(bucket)) this.queue.addAfter(key, OVERDUE_RECHECK_MS, 'live');
        continue;
      }
      if (bucket !== undefined) this.inFlightByBucket.set(bucket, (this.inFlightByBucket.get(bucket) ?? 0) + 1);
      let result;
      try {
        result = await this.reconciler.process(key);
      } catch (err) {
        // process() catches its own errors; this is the last line of defence for one bad run
        this.log.error('unexpected error while reconciling', { uid: key, error: messageOf(err) });
        result = { kind: 'retry' as const };
      } finally {
        this.queue.done(key);
        if (bucket !== undefined) this.inFlightByBucket.set(bucket, (this.inFlightByBucket.get(bucket) ?? 1) - 1);
      }
      if (result.kind === 'retry') {
        const delay = this.queue.addRateLimited(key, 'live');
        this.reconciler.holdUntil(key, Date.now() + delay);
      } else if (result.kind === 'after') {
        this.queue.addAfter(key, result.ms, 'live');
      } else {
        this.queue.forget(key);
      }
    }
  }

  private updateGauges(): void {
    const depth = this.queue.depth();
    this.metrics.queueDepth.labels('live').set(depth.live);
    this.metrics.queueDepth.labels('backlog').set(depth.backlog);
    this.metrics.queueInFlight.set(this.queue.inFlight);
    this.metrics.queueDelayed.set(this.queue.delayed);
    this.metrics.oldestPending.set(this.queue.oldestPendingMs() / 1000);
    let tr = 0;
    let pr = 0;
    for (const r of this.cache.values()) {
      if (r.kind === 'TaskRun') tr++;
      else pr++;
    }
    this.metrics.bucketsHeld.set(this.buckets ? this.buckets.held().length : this.leading ? 1 : 0);
    this.metrics.cachedRuns.labels('TaskRun').set(tr);
    this.metrics.cachedRuns.labels('PipelineRun').set(pr);
  }
}
