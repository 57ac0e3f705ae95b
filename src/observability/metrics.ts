// Prometheus metrics. The `watcher_*` counters keep Tekton Chains' names (spec §7.5) so existing dashboards and
// alerts keep working; the `chainsmith_*` ones answer what Chains users could not see: how deep the backlog is,
// how old its oldest item is, how long completion→signed takes, and which backend fails why.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type RunKindLabel = 'taskrun' | 'pipelinerun';
/** Chains' `error_type` values. */
export type SigningErrorType = 'payload_creation' | 'marshal_payload' | 'signing' | 'storage' | 'tlog';

interface ChainsCounters {
  signCreated: Counter;
  payloadUploaded: Counter;
  payloadStored: Counter;
  markedSigned: Counter;
  signingFailures: Counter<'error_type'>;
}

/** All metrics of one controller process, in their own registry. */
export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly chains: Record<RunKindLabel, ChainsCounters>;
  readonly queueDepth: Gauge<'lane'>;
  readonly queueInFlight: Gauge;
  readonly queueDelayed: Gauge;
  readonly oldestPending: Gauge;
  readonly signLatency: Histogram<'kind'>;
  readonly storeDuration: Histogram<'backend'>;
  readonly storeFailures: Counter<'backend' | 'reason'>;
  readonly tlogUploadDuration: Histogram<'entry_kind'>;
  readonly tlogUploadFailures: Counter<'kind'>;
  readonly markedFailed: Counter<'kind'>;
  readonly rearmed: Counter<'trigger'>;
  readonly apiRequests: Counter<'verb'>;
  readonly leader: Gauge;
  readonly bucketsHeld: Gauge;
  readonly bucketsTotal: Gauge;
  readonly leaseRequests: Counter<'verb'>;
  readonly signingPolicies: Gauge<'state'>;
  readonly policySigned: Counter<'namespace' | 'policy'>;
  readonly policyBlocked: Counter<'namespace' | 'policy' | 'reason'>;
  readonly cachedRuns: Gauge<'kind'>;
  readonly deletedUnsigned: Counter<'kind'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const r = this.registry;
    // A metric is its name, help text and label names; every one registers in this process's registry.
    const counter = <L extends string = string>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers: [r] });
    const gauge = <L extends string = string>(name: string, help: string, labelNames: L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers: [r] });
    const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers: [r] });
    // Chains' names and help texts: `watcher_<kind>_<what>_total`, "Total number of <things> for <kind>s".
    const chainsCounter = <L extends string = string>(kind: RunKindLabel, what: string, things: string, labels?: L[]) =>
      counter(`watcher_${kind}_${what}_total`, `Total number of ${things} for ${kind}s`, labels);
    const counters = (kind: RunKindLabel): ChainsCounters => ({
      signCreated: chainsCounter(kind, 'sign_created', 'signed messages'),
      payloadUploaded: chainsCounter(kind, 'payload_uploaded', 'uploaded payloads'),
      payloadStored: chainsCounter(kind, 'payload_stored', 'stored payloads'),
      markedSigned: chainsCounter(kind, 'marked_signed', 'objects marked as signed'),
      signingFailures: chainsCounter(kind, 'signing_failures', 'signing failures', ['error_type']),
    });
    this.chains = { taskrun: counters('taskrun'), pipelinerun: counters('pipelinerun') };
    this.queueDepth = gauge('chainsmith_queue_depth', 'Runs waiting to be processed, per lane', ['lane']);
    this.queueInFlight = gauge('chainsmith_queue_in_flight', 'Runs being processed right now');
    this.queueDelayed = gauge('chainsmith_queue_delayed', 'Runs waiting for a retry delay');
    this.oldestPending = gauge('chainsmith_queue_oldest_pending_seconds', 'Age of the oldest run waiting in the queue');
    this.signLatency = histogram(
      'chainsmith_completion_to_signed_seconds',
      'Time from a run’s completionTime to its signed mark',
      ['kind'],
      [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
    );
    this.storeDuration = histogram(
      'chainsmith_store_duration_seconds',
      'Time to store one signed payload, per backend',
      ['backend'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    this.storeFailures = counter('chainsmith_store_failures_total', 'Failed stores per backend and reason', [
      'backend',
      'reason',
    ]);
    // Successful uploads are Chains' watcher_<kind>_payload_uploaded_total; these add the time and the failures.
    this.tlogUploadDuration = histogram(
      'chainsmith_tlog_upload_duration_seconds',
      'Time to upload one signature to the transparency log (until Rekor answered with the entry)',
      ['entry_kind'],
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    this.tlogUploadFailures = counter(
      'chainsmith_tlog_upload_failures_total',
      'Failed transparency-log uploads; kind: transient (retried) or permanent',
      ['kind'],
    );
    this.markedFailed = counter('chainsmith_marked_failed_total', 'Runs marked signed=failed', ['kind']);
    this.rearmed = counter('chainsmith_rearmed_total', 'Failed runs re-armed for signing', ['trigger']);
    this.signingPolicies = gauge(
      'chainsmith_signing_policies',
      'SigningPolicies by state: ready (granted, valid), refused (not granted or invalid), conflict',
      ['state'],
    );
    this.policySigned = counter(
      'chainsmith_policy_runs_signed_total',
      'Runs signed under a SigningPolicy (runs signed under chains-config alone are not counted here)',
      ['namespace', 'policy'],
    );
    this.policyBlocked = counter(
      'chainsmith_policy_runs_blocked_total',
      'Signing attempts refused because of a SigningPolicy; reason: PolicyConflict or PolicyRefused',
      ['namespace', 'policy', 'reason'],
    );
    this.apiRequests = counter('chainsmith_api_requests_total', 'Kubernetes API requests made', ['verb']);
    this.leader = gauge('chainsmith_leader', '1 while this replica holds the lease (or, with buckets, at least one)');
    this.bucketsHeld = gauge('chainsmith_buckets_held', 'Buckets of work this replica holds (1 for the leader)');
    this.bucketsTotal = gauge(
      'chainsmith_buckets_total',
      'Buckets of work shared by the replicas (leader-election buckets)',
    );
    this.leaseRequests = counter(
      'chainsmith_lease_requests_total',
      'Kubernetes API requests for Leases (leader election, buckets)',
      ['verb'],
    );
    this.cachedRuns = gauge('chainsmith_cached_runs', 'Runs in the informer cache', ['kind']);
    this.deletedUnsigned = counter(
      'chainsmith_deleted_before_signed_total',
      'Completed runs deleted before they could be signed',
      ['kind'],
    );
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: r });
  }

  /** Chains' counters for a run kind. */
  forKind(kind: 'TaskRun' | 'PipelineRun'): ChainsCounters {
    return this.chains[kind === 'TaskRun' ? 'taskrun' : 'pipelinerun'];
  }
}
