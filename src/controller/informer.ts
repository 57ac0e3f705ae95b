// A small list-then-watch informer for one resource type in one namespace (or all): lists in pages (`limit`),
// watches from the list's resourceVersion, relists on 410 Gone, and reconnects with backoff. It keeps no cache
// of its own — the owner decides what to keep (see run-cache.ts) — which is why client-node's informer,
// which caches whole objects and lists without paging, is not used.
import type { Logger } from 'winston';
import { KubeClient, type KubeObject, type ResourceType } from '../kube/client.js';

/** Where an object came from: the first list, a later relist, or the watch stream. */
export type InformerPhase = 'initial' | 'relist' | 'watch';

export interface InformerHandlers {
  /** an object exists (ADDED/MODIFIED, or listed) */
  upsert(obj: KubeObject, phase: InformerPhase): void;
  /** an object was deleted (the last state the server knew) */
  remove(obj: KubeObject): void;
  /** a relist finished: every UID that still exists in this informer's scope */
  relisted?(uids: Set<string>): void;
}

export interface InformerOptions {
  client: KubeClient;
  resource: ResourceType;
  /** undefined = all namespaces */
  namespace?: string;
  fieldSelector?: string;
  pageSize?: number;
  /** called after each list page with the number of objects listed so far (memory housekeeping) */
  afterPage?: (listed: number) => void;
  logger: Logger;
  handlers: InformerHandlers;
}

const MIN_BACKOFF_MS = 500;
// a reconnect attempt to a down API server is one TCP connect: cheap enough to keep the cap short, so
// recovery after an outage is quick (measured in docs/reliability.md)
const MAX_BACKOFF_MS = 8_000;
/** the longest wait after a 429: the server is up, so even a persistent 429 is retried every second, not every 30 s */
const TOO_MANY_REQUESTS_BACKOFF_MS = 1_000;

/** List-then-watch for one resource scope. */
export class Informer {
  private resourceVersion = '';
  private stopped = false;
  private stopWatch: (() => void) | undefined;
  private backoffMs = MIN_BACKOFF_MS;
  private syncedOnce = false;
  private syncWaiters: Array<() => void> = [];
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: InformerOptions) {}

  /** True once the first full list has been delivered. */
  get hasSynced(): boolean {
    return this.syncedOnce;
  }

  /** Starts listing and watching; resolves when the first list is delivered. */
  start(): Promise<void> {
    void this.listAndWatch('initial');
    return this.synced();
  }

  /** Resolves once the first list is delivered. */
  synced(): Promise<void> {
    if (this.syncedOnce) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Stops the watch and any pending reconnect. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopWatch?.();
  }

  private get scope(): string {
    return `${this.opts.resource.plural}${this.opts.namespace ? ` in ${this.opts.namespace}` : ''}`;
  }

  private async listAndWatch(phase: 'initial' | 'relist'): Promise<void> {
    if (this.stopped) return;
    try {
      await this.list(phase);
    } catch (err) {
      this.opts.logger.warn('list failed; retrying', {
        resource: this.scope,
        error: String(err),
        retryInMs: this.backoffMs,
      });
      this.retryLater(() => this.listAndWatch(phase));
      return;
    }
    this.backoffMs = MIN_BACKOFF_MS;
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    await this.watch();
  }

  private async list(phase: 'initial' | 'relist'): Promise<void> {
    const { client, resource, namespace, fieldSelector, handlers } = this.opts;
    const seen = new Set<string>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await client.list<KubeObject>(resource, namespace, {
        limit: this.opts.pageSize ?? 100,
        continue: cont,
        fieldSelector,
      });
      rv = page.metadata.resourceVersion ?? rv;
      for (const item of page.items) {
        // list items carry no kind; set it so handlers see complete objects
        item.apiVersion ??= resource.group ? `${resource.group}/${resource.version}` : resource.version;
        item.kind ??= resource.kind;
        if (item.metadata?.uid) seen.add(item.metadata.uid);
        this.safely(() => handlers.upsert(item, phase));
      }
      cont = page.metadata.continue || undefined;
      this.opts.afterPage?.(seen.size);
    } while (cont);
    this.resourceVersion = rv;
    if (phase === 'relist') this.safely(() => handlers.relisted?.(seen));
    this.opts.logger.debug('listed', { resource: this.scope, count: seen.size, resourceVersion: rv });
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const path = KubeClient.collectionPath(this.opts.resource, this.opts.namespace);
    let gone = false;
    let finished = false;
    const onEvent = (type: string, obj: KubeObject): void => {
      this.backoffMs = MIN_BACKOFF_MS;
      if (type === 'ERROR') {
        const code = (obj as { code?: number }).code;
        if (code === 410) gone = true;
        else
          this.opts.logger.warn('watch error event', {
            resource: this.scope,
            code,
            message: (obj as { message?: string }).message,
          });
        this.stopWatch?.();
        return;
      }
      const rv = obj.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (type === 'BOOKMARK') return;
      if (type === 'DELETED') this.safely(() => this.opts.handlers.remove(obj));
      else if (type === 'ADDED' || type === 'MODIFIED') this.safely(() => this.opts.handlers.upsert(obj, 'watch'));
    };
    const onDone = (err: unknown): void => {
      if (finished) return;
      finished = true;
      this.stopWatch = undefined;
      if (this.stopped) return;
      if (gone || (err as { statusCode?: number } | null)?.statusCode === 410) {
        this.opts.logger.info('watch expired (410 Gone); relisting', { resource: this.scope });
        void this.listAndWatch('relist');
        return;
      }
      if (err) {
        // 429 = the server is back but its watch cache is still warming up (a restarted kube-apiserver): retry
        // soon rather than after the backoff grown while it was unreachable (docs/reliability.md, scenario 2)
        if ((err as { statusCode?: number }).statusCode === 429)
          this.backoffMs = Math.min(this.backoffMs, TOO_MANY_REQUESTS_BACKOFF_MS);
        this.opts.logger.warn('watch failed; reconnecting', {
          resource: this.scope,
          error: String(err),
          retryInMs: this.backoffMs,
        });
        this.retryLater(() => this.watch());
        return;
      }
      void this.watch();
    };
    try {
      const stop = await this.opts.client.watch(
        path,
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          // the server closes the stream after this; reconnecting from the last resourceVersion is cheap
          timeoutSeconds: 240 + Math.floor(Math.random() * 120),
          fieldSelector: this.opts.fieldSelector,
        },
        onEvent,
        onDone,
      );
      // onDone may already have run (the request failed) and started the next watch: keep that one's handle
      if (!finished) this.stopWatch = stop;
      if (this.stopped) stop();
    } catch (err) {
      onDone(err);
    }
  }

  private retryLater(fn: () => Promise<void>): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void fn();
    }, delay);
  }

  // a handler bug must never kill the watch stream (one bad object must not stop the others)
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error('informer handler failed', { resource: this.scope, error: String(err) });
    }
  }
}
