// The leader-election ConfigMap Chains reads through knative (`CONFIG_LEADERELECTION_NAME`, default
// `tekton-chains-config-leader-election`; knative's own name `config-leader-election` is accepted when that one is
// absent): `buckets` (1–10) and the Lease timings as Go durations. Read once at start-up, as knative does; a later
// change is logged with the advice to restart, because replicas disagreeing on the bucket count would each
// believe they own the same runs.
import type { Logger } from 'winston';
import { messageOf } from '../errors.js';
import type { EventSink } from '../observability/events.js';
import { CONFIGMAPS, type KubeClient, type KubeObject } from '../kube/client.js';
import { Informer } from './informer.js';
import { DEFAULT_LEASE_TIMING, type LeaseTiming } from './lease-lock.js';

export const CHAINS_LEADER_ELECTION_CONFIG = 'tekton-chains-config-leader-election';
export const KNATIVE_LEADER_ELECTION_CONFIG = 'config-leader-election';
export const MAX_BUCKETS = 10;

/** What the ConfigMap says, with defaults filled in. */
export interface LeaderElectionConfig {
  buckets: number;
  timing: LeaseTiming;
}

export const DEFAULT_LEADER_ELECTION: LeaderElectionConfig = { buckets: 1, timing: DEFAULT_LEASE_TIMING };

/** The parsed config and what was wrong with the data (each problem fell back to that key's default). */
export interface ParsedLeaderElection {
  config: LeaderElectionConfig;
  problems: string[];
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a Go duration (`15s`, `1m30s`, `1.5s`, `500ms`); undefined when it is not one. */
export function parseGoDurationMs(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (!/^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))*$/.test(s))
    return undefined;
  let total = 0;
  for (const m of s.matchAll(/([0-9]*\.?[0-9]*)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** Parses the ConfigMap's data; a bad value is reported and replaced by its default, never fatal. */
export function parseLeaderElection(data: Record<string, string>): ParsedLeaderElection {
  const problems: string[] = [];
  let buckets = DEFAULT_LEADER_ELECTION.buckets;
  const rawBuckets = data.buckets?.trim();
  if (rawBuckets !== undefined && rawBuckets !== '') {
    const n = Number(rawBuckets);
    if (/^[0-9]+$/.test(rawBuckets) && n >= 1 && n <= MAX_BUCKETS) buckets = n;
    else problems.push(`buckets: "${rawBuckets}" is not a whole number from 1 to ${MAX_BUCKETS}; using 1`);
  }
  const duration = (key: string, fallback: number): number => {
    const raw = data[key]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const ms = parseGoDurationMs(raw);
    if (ms !== undefined && ms >= 1000) return ms;
    problems.push(`${key}: "${raw}" is not a duration of at least 1s (such as 15s or 1m); using ${fallback / 1000}s`);
    return fallback;
  };
  const d = DEFAULT_LEASE_TIMING;
  let timing: LeaseTiming = {
    leaseDurationMs: duration('lease-duration', d.leaseDurationMs),
    renewDeadlineMs: duration('renew-deadline', d.renewDeadlineMs),
    retryPeriodMs: duration('retry-period', d.retryPeriodMs),
  };
  // client-go's rule: a holder must give up (renew deadline) before anyone may take over (lease duration)
  if (!(timing.renewDeadlineMs < timing.leaseDurationMs && timing.retryPeriodMs < timing.renewDeadlineMs)) {
    problems.push(
      `the timings must satisfy retry-period < renew-deadline < lease-duration (got ${timing.retryPeriodMs / 1000}s, ` +
        `${timing.renewDeadlineMs / 1000}s, ${timing.leaseDurationMs / 1000}s); using the defaults 2s, 10s, 15s`,
    );
    timing = d;
  }
  return { config: { buckets, timing }, problems };
}

export interface LeaderElectionSource {
  client: KubeClient;
  namespace: string;
  /** `CONFIG_LEADERELECTION_NAME`, when set */
  name?: string;
  logger: Logger;
  /** where a Warning Event about an invalid value goes (on the ConfigMap) */
  events?: EventSink;
  /** watch the ConfigMap afterwards and log changes (default true; tests turn it off) */
  watchChanges?: boolean;
}

/** The ConfigMap names tried, in order. */
export function configMapNames(name: string | undefined): string[] {
  const first = name && name !== '' ? name : CHAINS_LEADER_ELECTION_CONFIG;
  return first === KNATIVE_LEADER_ELECTION_CONFIG ? [first] : [first, KNATIVE_LEADER_ELECTION_CONFIG];
}

function dataOf(obj: KubeObject | undefined): Record<string, string> {
  return ((obj as { data?: Record<string, string> } | undefined)?.data ?? {}) as Record<string, string>;
}

/**
 * Reads the leader-election config at start-up, then watches the ConfigMap and logs, on a change, that a restart
 * applies it. Call `stop()` on shutdown.
 */
export class LeaderElectionConfigSource {
  private informer: Informer | undefined;
  private inForce: LeaderElectionConfig = DEFAULT_LEADER_ELECTION;

  constructor(private readonly o: LeaderElectionSource) {}

  /** The config to run with (defaults when no ConfigMap exists or it cannot be read). */
  async load(): Promise<LeaderElectionConfig> {
    const { client, namespace, logger } = this.o;
    let used: string | undefined;
    let obj: KubeObject | undefined;
    try {
      for (const name of configMapNames(this.o.name)) {
        obj = await client.get<KubeObject>(CONFIGMAPS, namespace, name);
        if (obj) {
          used = name;
          break;
        }
      }
    } catch (err) {
      logger.warn('could not read the leader-election ConfigMap; using the defaults', { error: messageOf(err) });
    }
    const parsed = parseLeaderElection(dataOf(obj));
    for (const p of parsed.problems) {
      logger.error(`invalid leader-election config: ${p}`, { namespace, configMap: used });
      if (used) {
        const target = { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: used, uid: obj?.metadata?.uid };
        this.o.events?.record(target, 'Warning', 'InvalidConfig', `invalid leader-election config: ${p}`);
      }
    }
    this.inForce = parsed.config;
    const t = parsed.config.timing;
    logger.info(used ? 'leader-election config applied' : 'no leader-election ConfigMap; using the defaults', {
      namespace,
      configMap: used ?? configMapNames(this.o.name).join(' or '),
      buckets: parsed.config.buckets,
      leaseDuration: `${t.leaseDurationMs / 1000}s`,
      renewDeadline: `${t.renewDeadlineMs / 1000}s`,
      retryPeriod: `${t.retryPeriodMs / 1000}s`,
    });
    if (this.o.watchChanges ?? true) this.watch(used ?? configMapNames(this.o.name)[0]!);
    return parsed.config;
  }

  stop(): void {
    this.informer?.stop();
  }

  private watch(name: string): void {
    this.informer = new Informer({
      client: this.o.client,
      resource: CONFIGMAPS,
      namespace: this.o.namespace,
      fieldSelector: `metadata.name=${name}`,
      logger: this.o.logger,
      handlers: {
        upsert: (obj) => this.changed(parseLeaderElection(dataOf(obj)).config, name),
        remove: () => this.changed(DEFAULT_LEADER_ELECTION, name),
      },
    });
    void this.informer.start();
  }

  private changed(next: LeaderElectionConfig, name: string): void {
    const cur = this.inForce;
    const same =
      next.buckets === cur.buckets &&
      next.timing.leaseDurationMs === cur.timing.leaseDurationMs &&
      next.timing.renewDeadlineMs === cur.timing.renewDeadlineMs &&
      next.timing.retryPeriodMs === cur.timing.retryPeriodMs;
    if (same) return;
    // every replica must agree on the bucket count, so a change applies when they restart (as in knative)
    this.o.logger.warn('the leader-election config changed; restart the controller to apply it', {
      namespace: this.o.namespace,
      configMap: name,
      buckets: next.buckets,
      bucketsInForce: cur.buckets,
    });
  }
}
