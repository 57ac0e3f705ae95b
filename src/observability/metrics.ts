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
  readonly markedFailed: Counter<'kind'>;
  readonly rearmed: Counter<'trigger'>;
  readonly apiRequests: Counter<'verb'>;
  readonly leader: Gauge;
  readonly cachedRuns: Gauge<'kind'>;
  readonly deletedUnsigned: Counter<'kind'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const r = this.registry;
    const counters = (kind: RunKindLabel): ChainsCounters => ({
      signCreated: new Counter({
        name: `watcher_${kind}_sign_created_total`,
        help: `Total number of signed messages for ${kind}s`,
        registers: [r],
      }),
      payloadUploaded: new Counter({
        name: `watcher_${kind}_payload_uploaded_total`,
        help: `Total number of uploaded payloads for ${kind}s`,
        registers: [r],
      }),
      payloadStored: new Counter({
        name: `watcher_${kind}_payload_stored_total`,
        help: `Total number of stored payloads for ${kind}s`,
        registers: [r],
      }),
      markedSigned: new Counter({
        name: `watcher_${kind}_marked_signed_total`,
        help: `Total number of objects marked as signed for ${kind}s`,
        registers: [r],
      }),
      signingFailures: new Counter({
        name: `watcher_${kind}_signing_failures_total`,
        help: `Total number of signing failures for ${kind}s`,
        labelNames: ['error_type'],
        registers: [r],
      }),
    });
    this.chains = { taskrun: counters('taskrun'), pipelinerun: counters('pipelinerun') };
    this.queueDepth = new Gauge({
      name: 'chainsmith_queue_depth',
      help: 'Runs waiting to be processed, per lane',
      labelNames: ['lane'],
      registers: [r],
    });
    this.queueInFlight = new Gauge({
      name: 'chainsmith_queue_in_flight',
      help: 'Runs being processed right now',
      registers: [r],
    });
    this.queueDelayed = new Gauge({
      name: 'chainsmith_queue_delayed',
      help: 'Runs waiting for a retry delay',
      registers: [r],
    });
    this.oldestPending = new Gauge({
      name: 'chainsmith_queue_oldest_pending_seconds',
      help: 'Age of the oldest run waiting in the queue',
      registers: [r],
    });
    this.signLatency = new Histogram({
      name: 'chainsmith_completion_to_signed_seconds',
      help: 'Time from a run’s completionTime to its signed mark',
      labelNames: ['kind'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers: [r],
    });
    this.storeDuration = new Histogram({
      name: 'chainsmith_store_duration_seconds',
      help: 'Time to store one signed payload, per backend',
      labelNames: ['backend'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [r],
    });
    this.storeFailures = new Counter({
      name: 'chainsmith_store_failures_total',
      help: 'Failed stores per backend and reason',
      labelNames: ['backend', 'reason'],
      registers: [r],
    });
    this.markedFailed = new Counter({
      name: 'chainsmith_marked_failed_total',
      help: 'Runs marked signed=failed',
      labelNames: ['kind'],
      registers: [r],
    });
    this.rearmed = new Counter({
      name: 'chainsmith_rearmed_total',
      help: 'Failed runs re-armed for signing',
      labelNames: ['trigger'],
      registers: [r],
    });
    this.apiRequests = new Counter({
      name: 'chainsmith_api_requests_total',
      help: 'Kubernetes API requests made',
      labelNames: ['verb'],
      registers: [r],
    });
    this.leader = new Gauge({
      name: 'chainsmith_leader',
      help: '1 while this replica holds the lease',
      registers: [r],
    });
    this.cachedRuns = new Gauge({
      name: 'chainsmith_cached_runs',
      help: 'Runs in the informer cache',
      labelNames: ['kind'],
      registers: [r],
    });
    this.deletedUnsigned = new Counter({
      name: 'chainsmith_deleted_before_signed_total',
      help: 'Completed runs deleted before they could be signed',
      labelNames: ['kind'],
      registers: [r],
    });
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: r });
  }

  /** Chains' counters for a run kind. */
  forKind(kind: 'TaskRun' | 'PipelineRun'): ChainsCounters {
    return this.chains[kind === 'TaskRun' ? 'taskrun' : 'pipelinerun'];
  }
}
