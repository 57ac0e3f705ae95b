// One lazily opened client of a service backend (a MongoClient, a Kafka producer), shared by every store of one
// storer. Opened on first use, so an unused backend costs nothing; reopened after a failed open or a `reset`;
// closed only when the stores using it have finished (or a grace period ran out), so a config change that replaces
// the storer never cuts a store in the middle.
import { ChainsmithError } from '../errors.js';

const DEFAULT_CLOSE_GRACE_MS = 30_000;

export class ClientSlot<T> {
  private client: Promise<T> | undefined;
  private inFlight = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  /**
   * @param backend names the backend in the error a store gets after `close`
   * @param open creates and connects the client
   * @param shut disconnects it; its errors are ignored (the client is being dropped)
   */
  constructor(
    private readonly backend: string,
    private readonly open: () => Promise<T>,
    private readonly shut: (client: T) => Promise<void>,
    private readonly closeGraceMs = DEFAULT_CLOSE_GRACE_MS,
  ) {}

  /** Runs `fn` with the client, opening it first when needed. */
  async use<R>(fn: (client: T) => Promise<R>): Promise<R> {
    if (this.closed)
      // a store that picked up this storer just before a config change: the next attempt uses the new one
      throw new ChainsmithError('StorageFailed', `${this.backend}: the backend was replaced by a new configuration`, {
        transient: true,
      });
    this.inFlight++;
    try {
      const pending = (this.client ??= this.open());
      let client: T;
      try {
        client = await pending;
      } catch (err) {
        if (this.client === pending) this.client = undefined; // the next store tries to open it again
        throw err;
      }
      return await fn(client);
    } finally {
      if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Drops the current client (after a connection-level failure): the next `use` opens a new one. */
  reset(): void {
    const old = this.client;
    this.client = undefined;
    if (old) void this.shutWhenIdle(old);
  }

  /** Closes the client once no store is using it (at most the grace period later). Later `use` calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const old = this.client;
    this.client = undefined;
    if (old) await this.shutWhenIdle(old);
  }

  private async shutWhenIdle(pending: Promise<T>): Promise<void> {
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, this.closeGraceMs).unref())),
      ]);
      clearTimeout(timer);
    }
    try {
      await this.shut(await pending);
    } catch {
      // the client failed to open or to close: either way there is nothing left to release
    }
  }
}
