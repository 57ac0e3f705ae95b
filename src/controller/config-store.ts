// The live `chains-config`: watched in SYSTEM_NAMESPACE, parsed on every change, applied to the next signature
// without a restart (spec §7.3). A missing ConfigMap means defaults (logged); an invalid one keeps the last
// good config and says why, in the log and as an Event on the ConfigMap. Chains exits on an invalid ConfigMap at
// start-up; we instead sign nothing until it is fixed (the runs wait in the queue) and report not-ready.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'winston';
import type { ChainsConfig } from '../config/types.js';
import { unknownConfigKeys } from '../config/parse.js';
import { messageOf } from '../errors.js';
import type { EventReason, EventSink } from '../observability/events.js';
import { Informer } from './informer.js';
import { CONFIGMAPS, type KubeClient, type KubeObject } from '../kube/client.js';

export const CONFIG_MAP_NAME = 'chains-config';

export interface ConfigStoreOptions {
  client: KubeClient;
  namespace: string;
  parse: (data: Record<string, string>) => ChainsConfig;
  defaults: ChainsConfig;
  events: EventSink;
  logger: Logger;
}

/** Holds the current valid config and notifies listeners when it changes. */
export class ConfigStore {
  private config: ChainsConfig | undefined;
  /** the ConfigMap data `config` was parsed from ({} for the defaults): SigningPolicies overlay their keys on it */
  private configData: Record<string, string> = {};
  private invalid: string | undefined;
  private readonly listeners: Array<(config: ChainsConfig, previous: ChainsConfig | undefined) => void> = [];
  private informer: Informer | undefined;
  private sawConfigMap = false;

  constructor(private readonly opts: ConfigStoreOptions) {}

  /** The config in force; undefined only while no valid config has been seen since start-up. */
  get current(): ChainsConfig | undefined {
    return this.config;
  }

  /** The ConfigMap data of the config in force ({} when it is the defaults). */
  get currentData(): Record<string, string> {
    return this.configData;
  }

  /** Why the ConfigMap was last rejected (cleared when a valid one arrives). */
  get problem(): string | undefined {
    return this.invalid;
  }

  onChange(listener: (config: ChainsConfig, previous: ChainsConfig | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** Starts watching; resolves after the first list (with defaults applied when the ConfigMap is absent). */
  async start(): Promise<void> {
    this.informer = new Informer({
      client: this.opts.client,
      resource: CONFIGMAPS,
      namespace: this.opts.namespace,
      fieldSelector: `metadata.name=${CONFIG_MAP_NAME}`,
      logger: this.opts.logger,
      handlers: {
        upsert: (obj) => this.apply(obj),
        remove: () => this.useDefaults('chains-config was deleted; using the default configuration'),
        relisted: (uids) => {
          if (uids.size === 0 && this.sawConfigMap)
            this.useDefaults('chains-config is gone; using the default configuration');
        },
      },
    });
    await this.informer.start();
    if (!this.sawConfigMap)
      this.useDefaults(`no ConfigMap ${this.opts.namespace}/${CONFIG_MAP_NAME}; using the default configuration`);
  }

  stop(): void {
    this.informer?.stop();
  }

  /** Applies a ConfigMap object (exported for tests). */
  apply(obj: KubeObject): void {
    this.sawConfigMap = true;
    const data = ((obj as { data?: Record<string, string> }).data ?? {}) as Record<string, string>;
    let next: ChainsConfig;
    try {
      next = this.opts.parse(data);
    } catch (err) {
      this.invalid = messageOf(err);
      const kept = this.config ? 'keeping the previous configuration' : 'nothing will be signed until it is fixed';
      this.opts.logger.error('invalid chains-config', {
        namespace: this.opts.namespace,
        error: this.invalid,
        action: kept,
      });
      this.warnOnConfigMap(obj, 'InvalidConfig', `${this.invalid}; ${kept}`);
      return;
    }
    this.invalid = undefined;
    const unknown = unknownConfigKeys(data);
    if (unknown.length > 0) {
      // Chains ignores unknown keys silently, so a typo such as `artifacts.taskrun.formats` goes unnoticed there.
      const list = unknown.map((u) => (u.suggestion ? `${u.key} (did you mean ${u.suggestion}?)` : u.key)).join(', ');
      this.opts.logger.warn(`chains-config has unknown keys, ignored: ${list}`, { namespace: this.opts.namespace });
      this.warnOnConfigMap(obj, 'UnknownConfigKey', `unknown keys are ignored: ${list}`);
    }
    this.set(next, 'chains-config applied', data);
  }

  // A Warning Event on the ConfigMap, where `kubectl describe` shows it next to the data it is about.
  private warnOnConfigMap(obj: KubeObject, reason: EventReason, note: string): void {
    const target = { apiVersion: 'v1', kind: 'ConfigMap', namespace: this.opts.namespace, name: CONFIG_MAP_NAME };
    this.opts.events.record({ ...target, uid: obj.metadata?.uid }, 'Warning', reason, note);
  }

  private useDefaults(message: string): void {
    this.invalid = undefined;
    this.set(this.opts.defaults, message, {});
  }

  private set(next: ChainsConfig, message: string, data: Record<string, string>): void {
    const previous = this.config;
    if (previous && isDeepStrictEqual(previous, next)) {
      this.configData = { ...data };
      return;
    }
    this.config = next;
    this.configData = { ...data };
    this.opts.logger.info(message, { namespace: this.opts.namespace });
    for (const l of this.listeners) {
      try {
        l(next, previous);
      } catch (err) {
        this.opts.logger.error('config listener failed', { error: messageOf(err) });
      }
    }
  }
}
