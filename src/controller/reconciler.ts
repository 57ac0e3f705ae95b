// One reconcile of one run, keyed by UID: decide (decide.ts), make sure our finalizer is on, sign
// (sign-run.ts), then write everything in one patch (marking.ts) — or record the failure (retries.ts).
// Every outcome that is not a signature gets an Event with the reason. Errors stay inside the item.
import type { Logger } from 'winston';
import type { ChainsConfig } from '../config/types.js';
import { messageOf, reasonOf } from '../errors.js';
import type { Finding } from '../artifacts/types.js';
import type { EventReason, EventSink, EventTarget } from '../observability/events.js';
import { runFields } from '../observability/logger.js';
import type { ControllerMetrics } from '../observability/metrics.js';
import type { Run, TaskRun } from '../tekton/types.js';
import { childrenState, missingChildrenNote } from './children.js';
import { decide } from './decide.js';
import { KubeApiError, PIPELINERUNS, TASKRUNS, type KubeClient } from '../kube/client.js';
import {
  addFinalizerPatch,
  failurePatch,
  finishPatch,
  rearmPatch,
  releasePatch,
  type MergePatch,
  type PatchBase,
} from '../pipeline/marking.js';
import { recordFailure, isTransient } from '../pipeline/retries.js';
import {
  finalizerFor,
  POLICY_SIGNER_ANNOTATION,
  RETRIES_ANNOTATION,
  SIGNED_ANNOTATION,
  SIGNING_POLICY_ANNOTATION,
} from '../tekton/annotations.js';
import { blockedError, type PolicyResolution } from './policy-store.js';
import { isReconciled, type CachedRun, type RunCache } from './run-cache.js';
import { markEvidence } from '../pipeline/mark-trust.js';
import { signRun, type SigningDeps } from '../pipeline/sign-run.js';

/** What the worker does with the key afterwards. */
export type ProcessResult = { kind: 'done' } | { kind: 'retry' } | { kind: 'after'; ms: number };

export interface ReconcilerOptions {
  cache: RunCache;
  client: KubeClient;
  config: () => ChainsConfig | undefined;
  /** SigningPolicies (docs/signing-policies.md): which config a run of a namespace with policies is signed under */
  policies?: {
    has(namespace: string): boolean;
    resolve(namespace: string, labels: Record<string, string>): PolicyResolution;
  };
  signing: SigningDeps;
  events: EventSink;
  metrics: ControllerMetrics;
  logger: Logger;
  /** how long a PipelineRun waits for a child TaskRun that does not exist (default 30 s) */
  childWaitMs?: number;
  now?: () => number;
}

const DONE: ProcessResult = { kind: 'done' };
const MAX_CONFLICTS = 5;

/** Reconciles runs; holds the little per-run memory a reconcile needs between attempts. */
export class Reconciler {
  /** resourceVersions we already wrote over: a cache entry still at one of them is stale, skip it */
  private readonly superseded = new Map<string, Set<string>>();
  /** when the current streak of transient failures began */
  private readonly firstTransient = new Map<string, number>();
  /** earliest time a failed run may be tried again (our own patch's watch event must not bypass backoff) */
  private readonly notBefore = new Map<string, number>();
  /** when a PipelineRun was first seen waiting for a missing child */
  private readonly missingSince = new Map<string, number>();
  /** outcomes already reported by Event for a run (so repeats do not spam) */
  private readonly reported = new Map<string, Set<string>>();
  /** runs marked failed that should be re-armed on their next reconcile */
  private readonly rearm = new Set<string>();
  /** child TaskRun `namespace/name` → UIDs of PipelineRuns waiting for it */
  readonly waitingParents = new Map<string, Set<string>>();
  private readonly now: () => number;
  private readonly childWaitMs: number;

  constructor(private readonly o: ReconcilerOptions) {
    this.now = o.now ?? Date.now;
    this.childWaitMs = o.childWaitMs ?? 30_000;
  }

  /** Marks a failed run for re-arming (config or keys changed). */
  requestRearm(uid: string): void {
    this.rearm.add(uid);
  }

  /** The cache saw a new version of a run: versions we wrote over are no longer needed to spot a stale cache. */
  observed(uid: string, resourceVersion: string): void {
    const set = this.superseded.get(uid);
    if (set && !set.has(resourceVersion)) this.superseded.delete(uid);
  }

  /** Forgets everything about a run that is gone. */
  forget(uid: string): void {
    this.superseded.delete(uid);
    this.firstTransient.delete(uid);
    this.notBefore.delete(uid);
    this.missingSince.delete(uid);
    this.reported.delete(uid);
    this.rearm.delete(uid);
  }

  /** Reconciles the run with this UID; never throws. */
  async process(uid: string): Promise<ProcessResult> {
    const cached = this.o.cache.get(uid);
    if (!cached) {
      this.forget(uid);
      return DONE;
    }
    const stale = this.superseded.get(uid);
    if (stale?.has(cached.resourceVersion)) return DONE; // our own write's watch event will bring the new state
    this.superseded.delete(uid);
    const wait = (this.notBefore.get(uid) ?? 0) - this.now();
    if (wait > 0) return { kind: 'after', ms: wait };
    const log = this.o.logger.child(runFields(cached));
    try {
      return await this.reconcile(cached, cached.full, log, 0);
    } catch (err) {
      log.error('reconcile failed', { error: messageOf(err), reason: reasonOf(err, 'ApiError') });
      return { kind: 'retry' };
    }
  }

  private async reconcile(
    run: CachedRun,
    full: Run | undefined,
    log: Logger,
    conflicts: number,
  ): Promise<ProcessResult> {
    const config = this.o.config();
    if (this.rearm.has(run.uid)) {
      this.rearm.delete(run.uid);
      if (run.annotations[SIGNED_ANNOTATION] === 'failed') {
        await this.write(run, rearmPatch(run));
        this.o.metrics.rearmed.labels('change').inc();
        log.info('re-armed a run marked failed');
        this.event(run, 'Normal', 'Rearmed', 'signing configuration or keys changed; signing this run again');
        return DONE;
      }
    }
    let runConfig: ChainsConfig | undefined = config;
    let policy: Extract<PolicyResolution, { kind: 'policy' }> | undefined;
    if (config && run.done && !isReconciled(run.annotations) && this.o.policies?.has(run.namespace)) {
      // a namespace with SigningPolicies: the run's labels choose its policy (the cached summary has no labels)
      if (!full) {
        full = await this.get(run);
        if (!full) return DONE;
      }
      const resolution = this.o.policies.resolve(run.namespace, full.metadata.labels ?? {});
      if (resolution.kind === 'blocked') {
        for (const name of resolution.policies)
          this.o.metrics.policyBlocked.labels(run.namespace, name, resolution.reason).inc();
        const err = blockedError(resolution);
        return this.failed(run, run, err, [err.message], 'policy', config, log);
      }
      if (resolution.kind === 'policy') {
        policy = resolution;
        runConfig = resolution.config;
      }
    }
    const decision = decide(run, runConfig);
    switch (decision.action) {
      case 'none':
        return DONE;
      case 'release':
        log.debug('removing our finalizer', { why: decision.why });
        return this.guard(run, log, conflicts, () => this.write(run, releasePatch(run)));
      case 'disabled':
        this.reportOnce(
          run,
          'SigningDisabled',
          'Warning',
          `not signed: every artifact type for ${run.kind}s is disabled in chains-config ` +
            '(signer "none" or storage ""); no signed mark is written',
        );
        if (run.finalizers.includes(finalizerFor(run.kind)))
          return this.guard(run, log, conflicts, () => this.write(run, releasePatch(run)));
        return DONE;
      case 'protect':
        log.debug('adding our finalizer to a running run');
        return this.guard(run, log, conflicts, () => this.write(run, addFinalizerPatch(run)));
      case 'sign':
        return this.sign(run, full, runConfig!, config!, policy, log, conflicts);
    }
  }

  /** Runs a write; on 409 re-reads the live object and reconciles again from it. */
  private async guard(
    run: CachedRun,
    log: Logger,
    conflicts: number,
    fn: () => Promise<unknown>,
  ): Promise<ProcessResult> {
    try {
      await fn();
      return DONE;
    } catch (err) {
      return this.onConflict(err, run, log, conflicts);
    }
  }

  private async onConflict(err: unknown, run: CachedRun, log: Logger, conflicts: number): Promise<ProcessResult> {
    if (!(err instanceof KubeApiError && err.status === 409) || conflicts >= MAX_CONFLICTS) throw err;
    const live = await this.get(run);
    if (!live) return DONE;
    log.debug('conflict; retrying from the live object', { resourceVersion: live.metadata.resourceVersion });
    return this.reconcile(this.o.cache.summarise(live), live, log, conflicts + 1);
  }

  /**
   * Signs under `config` (chains-config, or a SigningPolicy's config built on it: `policy`); the signed mark is
   * always signed under `baseConfig`, the controller's own signer, so one key verifies every mark.
   */
  private async sign(
    run: CachedRun,
    full: Run | undefined,
    config: ChainsConfig,
    baseConfig: ChainsConfig,
    policy: Extract<PolicyResolution, { kind: 'policy' }> | undefined,
    log: Logger,
    conflicts: number,
  ): Promise<ProcessResult> {
    // the finalizer goes on first, before any waiting, so a run deleted meanwhile is still signed before it goes
    let base: PatchBase & { annotations: Record<string, string> } = run;
    let obj = full;
    if (!run.deleting && !run.finalizers.includes(finalizerFor(run.kind))) {
      try {
        obj = await this.write(run, addFinalizerPatch(run));
      } catch (err) {
        return this.onConflict(err, run, log, conflicts);
      }
      base = this.o.cache.summarise(obj);
    }

    let children: TaskRun[] = [];
    let childNote: string | undefined;
    if (run.kind === 'PipelineRun') {
      const ready = await this.collectChildren(run, config, log);
      if ('result' in ready) return ready.result;
      children = ready.children;
      childNote = ready.note;
    }

    if (!obj) {
      obj = await this.get(run);
      if (!obj) return DONE;
      base = this.o.cache.summarise(obj);
      if (isReconciled(base.annotations)) return DONE;
    }

    const started = this.now();
    const outcome = await signRun(obj, children, config, this.o.signing);
    if (outcome.status === 'failed')
      return this.failed(run, base, outcome.error, outcome.messages, outcome.errorType, config, log);

    const signed = outcome.status === 'signed';
    const now = new Date(this.now());
    let mark: Record<string, string> = {};
    try {
      // signed-at and the mark signature over it: what makes the mark trusted later (mark-trust.ts)
      if (signed) mark = await markEvidence(run, baseConfig, (name, c) => this.o.signing.signer(name, c), now);
    } catch (err) {
      return this.failed(run, base, err, [`signing the signed mark: ${messageOf(err)}`], 'signing', config, log);
    }
    this.firstTransient.delete(run.uid);
    this.notBefore.delete(run.uid);
    const policyMarks: Record<string, string> =
      signed && policy
        ? { [SIGNING_POLICY_ANNOTATION]: policy.policy.metadata.name, [POLICY_SIGNER_ANNOTATION]: policy.signer }
        : {};
    const patch = finishPatch(base, {
      annotations: signed ? { ...outcome.annotations, ...mark, ...policyMarks } : {},
      signed,
      now,
    });
    if (signed && !policy) {
      // signed again under chains-config alone (a policy deleted since an earlier signature): no stale policy name
      for (const k of [SIGNING_POLICY_ANNOTATION, POLICY_SIGNER_ANNOTATION])
        if (base.annotations[k] !== undefined) (patch.metadata.annotations ??= {})[k] = null;
    }
    const written = await this.finish(run, base, patch, log);
    // marked (by us or someone else) or gone: no retry will need the signatures made for it
    this.o.signing.memo?.forgetRun(run.uid);
    if (!written) return DONE;

    this.reportFindings(run, outcome.findings, signed);
    if (childNote) this.reportOnce(run, 'ChildRunMissing', 'Warning', childNote);
    if (outcome.status === 'signed') {
      const counters = this.o.metrics.forKind(run.kind);
      counters.markedSigned.inc();
      if (run.completionTime) {
        const latency = (this.now() - Date.parse(run.completionTime)) / 1000;
        if (latency >= 0) this.o.metrics.signLatency.labels(run.kind).observe(latency);
      }
      if (policy) {
        this.o.metrics.policySigned.labels(run.namespace, policy.policy.metadata.name).inc();
        log.info('signed', {
          signed: outcome.signed,
          durationMs: this.now() - started,
          policy: policy.policy.metadata.name,
          signer: policy.signer,
        });
        this.event(
          run,
          'Normal',
          'Signed',
          `signed ${outcome.signed.join('; ')} under SigningPolicy ${policy.policy.metadata.name} (${policy.signer})`,
        );
      } else {
        log.info('signed', { signed: outcome.signed, durationMs: this.now() - started });
        this.event(run, 'Normal', 'Signed', `signed ${outcome.signed.join('; ')}`);
      }
      // a signed run is never looked at again: keep no memory of it (10,000 signed runs must cost nothing here)
      this.reported.delete(run.uid);
    } else {
      log.warn('nothing signed', { why: outcome.why });
      if (!outcome.findings.some((f) => f.reason === 'NoArtifacts'))
        this.reportOnce(run, 'SigningDisabled', 'Warning', `not signed: ${outcome.why}`);
    }
    this.missingSince.delete(run.uid);
    return DONE;
  }

  /**
   * Writes the final patch; on 409 re-reads and retries with the fresh resourceVersion
   * unless someone else marked it.
   */
  private async finish(run: CachedRun, base: PatchBase, patch: MergePatch, log: Logger): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(run, patch, base.resourceVersion);
        return true;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 409) || attempt >= MAX_CONFLICTS) throw err;
        const live = await this.get(run);
        if (!live) {
          log.warn('run disappeared before it could be marked');
          return false;
        }
        const liveBase = this.o.cache.summarise(live);
        if (isReconciled(liveBase.annotations)) {
          log.info('run was marked by someone else meanwhile; leaving it');
          return false;
        }
        const fresh = finishPatch(liveBase, {
          annotations: Object.fromEntries(
            Object.entries(patch.metadata.annotations ?? {}).filter(([, v]) => v !== null),
          ) as Record<string, string>,
          signed: patch.metadata.annotations?.[SIGNED_ANNOTATION] === 'true',
          now: new Date(this.now()),
        });
        // keep the removals the first patch asked for (stale policy annotations): finishPatch takes strings only
        for (const [k, v] of Object.entries(patch.metadata.annotations ?? {}))
          if (v === null && !(k in (fresh.metadata.annotations ?? {}))) (fresh.metadata.annotations ??= {})[k] = null;
        patch = fresh;
        base = liveBase;
      }
    }
  }

  private async failed(
    run: CachedRun,
    base: PatchBase & { annotations: Record<string, string> },
    error: unknown,
    messages: string[],
    errorType: string,
    config: ChainsConfig,
    log: Logger,
  ): Promise<ProcessResult> {
    const now = this.now();
    let since = this.firstTransient.get(run.uid);
    let streakStarts = false;
    if (isTransient(error)) {
      if (since === undefined) {
        this.firstTransient.set(run.uid, (since = now));
        streakStarts = true;
      }
    } else {
      this.firstTransient.delete(run.uid);
      since = undefined;
    }
    const reason = reasonOf(error, 'SigningFailed');
    const eventReason: EventReason =
      reason === 'PolicyConflict' || reason === 'PolicyRefused'
        ? reason
        : errorType === 'storage'
          ? 'StorageFailed'
          : errorType === 'payload_creation'
            ? 'PayloadFailed'
            : errorType === 'tlog'
              ? 'TransparencyFailed'
              : reason === 'KeylessFailed'
                ? 'KeylessFailed'
                : 'SigningFailed';
    const outcome = recordFailure(base.annotations, error, config, now, since);
    log.warn('signing failed', {
      reason,
      errorType,
      transient: isTransient(error),
      outcome: outcome.kind,
      error: messages.join('; '),
    });
    if (outcome.kind !== 'retry-quietly' || streakStarts) {
      const retryNote =
        outcome.kind === 'give-up'
          ? 'giving up'
          : outcome.kind === 'count'
            ? `attempt ${Number(outcome.annotations[RETRIES_ANNOTATION]) + 1} of ${config.chainsmith.maxRetries + 2}`
            : 'transient; retrying';
      this.event(run, 'Warning', eventReason, `${reason}: ${messages.join('; ')} (${retryNote})`);
    }
    if (outcome.kind !== 'retry-quietly') {
      try {
        await this.write(
          run,
          failurePatch(base, outcome.annotations, outcome.kind === 'give-up'),
          base.resourceVersion,
        );
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409) return { kind: 'retry' };
        throw err;
      }
    }
    if (outcome.kind === 'give-up') {
      this.o.metrics.markedFailed.labels(run.kind).inc();
      this.event(
        run,
        'Warning',
        'MarkedFailed',
        `marked chains.tekton.dev/signed=failed after ${config.chainsmith.maxRetries + 2} attempts; ` +
          `last error: ${reason}: ${messages[0] ?? ''}. ` +
          'It is signed again when chains-config, the signing keys or its namespace’s SigningPolicies change.',
      );
      this.firstTransient.delete(run.uid);
      this.notBefore.delete(run.uid);
      return DONE;
    }
    return { kind: 'retry' };
  }

  /** Records when a failed run may be tried again (set by the worker from the backoff delay). */
  holdUntil(uid: string, at: number): void {
    this.notBefore.set(uid, at);
  }

  private async collectChildren(
    pr: CachedRun,
    config: ChainsConfig,
    log: Logger,
  ): Promise<{ result: ProcessResult } | { children: TaskRun[]; note?: string }> {
    const state = childrenState(pr, this.o.cache, config);
    for (const name of [...state.waiting, ...state.missing]) {
      const key = `${pr.namespace}/${name}`;
      let parents = this.waitingParents.get(key);
      if (!parents) this.waitingParents.set(key, (parents = new Set()));
      parents.add(pr.uid);
    }
    if (state.waiting.length > 0) {
      log.debug('waiting for child TaskRuns to be signed', { children: state.waiting });
      // child events re-enqueue us; the timer is only a safety net
      return { result: { kind: 'after', ms: 60_000 } };
    }
    if (state.missing.length > 0) {
      const since = this.missingSince.get(pr.uid) ?? this.now();
      this.missingSince.set(pr.uid, since);
      const left = since + this.childWaitMs - this.now();
      if (left > 0) {
        log.info('child TaskRuns not found; waiting before signing without them', {
          missing: state.missing,
          waitMs: left,
        });
        return { result: { kind: 'after', ms: left } };
      }
    }
    const children: TaskRun[] = [];
    const listed = await this.listChildren(pr, state.ready.filter((c) => !c.full).length, log);
    for (const child of state.ready) {
      const obj =
        (child.full as TaskRun | undefined) ??
        listed.get(child.uid) ??
        ((await this.get(child)) as TaskRun | undefined);
      if (obj) children.push(obj);
      else state.missing.push(child.name);
    }
    const note =
      state.missing.length > 0 || state.other.length > 0
        ? missingChildrenNote(state.missing, state.other, Math.round(this.childWaitMs / 1000))
        : undefined;
    return note ? { children, note } : { children };
  }

  private reportFindings(run: CachedRun, findings: Finding[], signed: boolean): void {
    const none = findings.find((f) => f.reason === 'NoArtifacts');
    const other = findings.filter((f) => f.reason !== 'NoArtifacts');
    if (other.length > 0) {
      this.reportOnce(
        run,
        'InvalidResult',
        'Warning',
        other.map((f) => (f.result ? `${f.result}: ${f.message}` : f.message)).join('; '),
      );
    }
    if (none) {
      const what = signed ? 'the run provenance was signed, but it names no artifacts' : 'nothing was signed';
      this.reportOnce(run, 'NoArtifacts', 'Warning', `${what}: ${none.message}`);
    }
  }

  private reportOnce(run: CachedRun, reason: EventReason, type: 'Normal' | 'Warning', note: string): void {
    let seen = this.reported.get(run.uid);
    if (!seen) this.reported.set(run.uid, (seen = new Set()));
    if (seen.has(reason)) return;
    seen.add(reason);
    this.event(run, type, reason, note);
  }

  private event(run: CachedRun, type: 'Normal' | 'Warning', reason: EventReason, note: string): void {
    const target: EventTarget = {
      apiVersion: 'tekton.dev/v1',
      kind: run.kind,
      namespace: run.namespace,
      name: run.name,
      uid: run.uid,
    };
    this.o.events.record(target, type, reason, note);
  }

  private async write(run: CachedRun, patch: MergePatch, fromRv?: string): Promise<Run> {
    const res = run.kind === 'TaskRun' ? TASKRUNS : PIPELINERUNS;
    const out = await this.o.client.mergePatch<Run>(res, run.namespace, run.name, patch);
    let set = this.superseded.get(run.uid);
    if (!set) this.superseded.set(run.uid, (set = new Set()));
    set.add(fromRv ?? patch.metadata.resourceVersion);
    set.add(run.resourceVersion);
    return out;
  }

  /**
   * Signed children are no longer kept whole in the cache; reading several back with one list by Tekton's
   * `tekton.dev/pipelineRun` label costs one request instead of one GET per child. Children without the
   * label (or a failed list) fall back to a GET each.
   */
  private async listChildren(pr: CachedRun, needed: number, log: Logger): Promise<Map<string, TaskRun>> {
    const byUid = new Map<string, TaskRun>();
    if (needed < 2) return byUid;
    try {
      let cont: string | undefined;
      do {
        const page = await this.o.client.list<TaskRun>(TASKRUNS, pr.namespace, {
          labelSelector: `tekton.dev/pipelineRun=${pr.name}`,
          limit: 500,
          ...(cont ? { continue: cont } : {}),
        });
        for (const tr of page.items) if (tr.metadata.uid) byUid.set(tr.metadata.uid, tr);
        cont = page.metadata?.continue || undefined;
      } while (cont);
    } catch (err) {
      log.debug('listing child TaskRuns failed; reading them one by one', { error: messageOf(err) });
      byUid.clear();
    }
    return byUid;
  }

  private async get(run: {
    kind: 'TaskRun' | 'PipelineRun';
    namespace: string;
    name: string;
    uid: string;
  }): Promise<Run | undefined> {
    const res = run.kind === 'TaskRun' ? TASKRUNS : PIPELINERUNS;
    const obj = await this.o.client.get<Run>(res, run.namespace, run.name);
    // a run re-created under the same name is another run
    if (obj && obj.metadata.uid !== run.uid) return undefined;
    return obj;
  }
}
