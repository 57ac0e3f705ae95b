// Kubernetes Events (events.k8s.io/v1) on runs and on the chains-config ConfigMap: the way a user without access
// to controller logs learns that a run was signed, or why it was not (user-pains §1C #16, §1F #23).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'winston';
import { EVENTS, type KubeClient } from '../kube/client.js';
import { CHAINSMITH_CONTROLLER } from '../tekton/annotations.js';
import { escapeTerminal } from '../text/terminal.js';

/** Event reasons chainsmith emits. */
export type EventReason =
  | 'Signed'
  | 'NoArtifacts'
  | 'InvalidResult'
  | 'SigningFailed'
  | 'StorageFailed'
  | 'TransparencyFailed'
  | 'KeylessFailed'
  | 'PayloadFailed'
  | 'ChildRunMissing'
  | 'MarkedFailed'
  | 'Rearmed'
  | 'SigningDisabled'
  | 'DeletedBeforeSigned'
  | 'InvalidConfig'
  | 'UnknownConfigKey'
  | 'PolicyConflict'
  | 'PolicyRefused';

/** The object an Event is about. */
export interface EventTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventSink {
  /** Records an Event; never throws (failures are logged), never blocks the caller's work. */
  record(target: EventTarget, type: 'Normal' | 'Warning', reason: EventReason, note: string): void;
  /** Waits for Events still being sent (graceful shutdown). */
  flush(): Promise<void>;
}

/** events.k8s.io/v1 MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Longest Event note in UTF-8 bytes: events.k8s.io/v1 rejects a note over 1 kB (1024 bytes). */
export const MAX_EVENT_NOTE_BYTES = 1024;
const TRUNCATED = '…';

/**
 * An Event note safe to show: notes quote run results, registry answers and error messages, and
 * `kubectl describe` prints them raw, so control and bidi characters are escaped (issue 15); then cut to
 * MAX_EVENT_NOTE_BYTES on a character boundary, ending in "…" when cut.
 */
export function eventNote(note: string): string {
  const escaped = escapeTerminal(note);
  if (Buffer.byteLength(escaped) <= MAX_EVENT_NOTE_BYTES) return escaped;
  const budget = MAX_EVENT_NOTE_BYTES - Buffer.byteLength(TRUNCATED);
  let bytes = 0;
  let end = 0;
  for (const ch of escaped) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > budget) break;
    bytes += n;
    end += ch.length;
  }
  return escaped.slice(0, end) + TRUNCATED;
}

const randomHex = (): string => randomBytes(4).toString('hex');

/** Builds the Event object the API server receives. */
export function eventBody(
  target: EventTarget,
  type: 'Normal' | 'Warning',
  reason: EventReason,
  note: string,
  opts: { instance: string; now: Date },
): object {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    // named like client-go's recorder (`<object>.<unique hex>`); generateName ending in "." is rejected
    // the cut must not leave the name ending in "-" or ".": "<name>." + hex stays a valid DNS-1123 subdomain
    metadata: {
      name: `${target.name.slice(0, 200).replace(/[-.]+$/, '')}.${opts.now.getTime().toString(16)}${randomHex()}`,
      namespace: target.namespace,
    },
    eventTime: microTime(opts.now),
    reportingController: CHAINSMITH_CONTROLLER,
    reportingInstance: opts.instance.slice(0, 128),
    action: 'Sign',
    reason,
    type,
    note: eventNote(note),
    regarding: {
      apiVersion: target.apiVersion,
      kind: target.kind,
      namespace: target.namespace,
      name: target.name,
      ...(target.uid ? { uid: target.uid } : {}),
      ...(target.resourceVersion ? { resourceVersion: target.resourceVersion } : {}),
    },
  };
}

/**
 * Sends Events through the controller's rate-limited client, at most `concurrency` at a time and at low
 * priority: under a burst they trail the writes that sign runs instead of competing with them at the API
 * server (bench/findings.md). Up to `maxPending` wait in memory; beyond that new ones are dropped and counted
 * in the log, so a long API outage cannot grow the controller's memory without bound.
 */
export class KubeEventSink implements EventSink {
  private readonly queue: Array<{ target: EventTarget; reason: EventReason; body: object }> = [];
  private inFlight = 0;
  private dropped = 0;
  private readonly drained: Array<() => void> = [];
  private readonly instance: string;
  private readonly concurrency: number;
  private readonly maxPending: number;

  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
    opts: { instance?: string; concurrency?: number; maxPending?: number } = {},
  ) {
    this.instance = opts.instance ?? process.env.POD_NAME ?? hostname();
    this.concurrency = opts.concurrency ?? 2;
    this.maxPending = opts.maxPending ?? 5000;
  }

  record(target: EventTarget, type: 'Normal' | 'Warning', reason: EventReason, note: string): void {
    if (this.queue.length >= this.maxPending) {
      if (this.dropped++ === 0)
        this.logger.warn('too many Events waiting to be sent; dropping new ones until the queue drains', {
          pending: this.queue.length,
          reason,
          namespace: target.namespace,
          name: target.name,
        });
      return;
    }
    this.queue.push({
      target,
      reason,
      body: eventBody(target, type, reason, note, { instance: this.instance, now: new Date() }),
    });
    this.pump();
  }

  async flush(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const { target, reason, body } = this.queue.shift()!;
      this.inFlight++;
      void this.client
        .create(EVENTS, target.namespace, body, 'low')
        .then(
          () => undefined,
          (err: unknown) =>
            this.logger.warn('could not record event', {
              namespace: target.namespace,
              name: target.name,
              uid: target.uid,
              reason,
              error: String(err),
            }),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (this.queue.length === 0 && this.inFlight === 0) {
            if (this.dropped > 0)
              this.logger.warn('Events were dropped while the queue was full', { dropped: this.dropped });
            this.dropped = 0;
            for (const r of this.drained.splice(0)) r();
          }
        });
    }
  }
}

/** Keeps Events in memory (tests, `--dry-run` style tools). */
export class MemoryEventSink implements EventSink {
  readonly events: Array<{ target: EventTarget; type: string; reason: EventReason; note: string }> = [];
  record(target: EventTarget, type: 'Normal' | 'Warning', reason: EventReason, note: string): void {
    this.events.push({ target, type, reason, note });
  }
  async flush(): Promise<void> {}
}
