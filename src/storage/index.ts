// Builds the storage backends a config names, once per config (Chains rebuilds them per controller and per
// change too, but signers per call — we build neither per run): every backend Chains has. A backend that cannot
// store (bad settings, server down) fails its stores with a clear reason, so a run is never marked signed when a
// configured backend did not store its result. A backend whose own keys did not change keeps its instance (and its
// connections) across config changes; the replaced ones are closed by `closeReplacedStorers`.
import type { Logger } from 'winston';
import type { ChainsConfig, StorageName } from '../config/types.js';
import { messageOf } from '../errors.js';
import type { RegistryCredentialSource } from '../kube/registry-credentials.js';
import { KeyedMutex } from '../oci/keyed-mutex.js';
import { ArchivistaStorer, archivistaSettings } from './archivista.js';
import { DocdbStorer, docdbSettings } from './docdb.js';
import { GcsStorer, gcsSettings } from './gcs.js';
import { KafkaStorer, kafkaSettings } from './kafka.js';
import { createGrafeasStorer } from './grafeas.js';
import { OciStorer } from './oci.js';
import type { Storer } from './storer.js';
import { TektonStorer } from './tekton.js';

export interface StorerDeps {
  credentials: RegistryCredentialSource;
  logger?: Logger;
  /** shared across rebuilds so writes to one OCI tag stay serialised while configs change */
  locks?: KeyedMutex;
  caBundle?: string;
  /** the storers of the previous config: a backend whose own keys did not change is kept (no reconnect) */
  previous?: ReadonlyMap<StorageName, Storer>;
}

/** The storage names used by the enabled artifact types of a config. */
export function configuredStorageNames(config: ChainsConfig): StorageName[] {
  const names = new Set<StorageName>();
  for (const t of ['taskrun', 'pipelinerun', 'oci'] as const) {
    const a = config.artifacts[t];
    if (a.signer === 'none') continue;
    for (const s of a.storage) names.add(s);
  }
  return [...names].sort();
}

/**
 * Backends that need no settings of their own (no bucket, URL or broker): always built by the controller, so a
 * SigningPolicy may choose them even where chains-config does not use them.
 */
export const SETTINGLESS_STORAGE: readonly StorageName[] = ['oci', 'tekton'];

/** One Storer per storage name the config uses, and per name of `also`. */
export function buildStorers(
  config: ChainsConfig,
  deps: StorerDeps,
  also: readonly StorageName[] = [],
): Map<StorageName, Storer> {
  const out = new Map<StorageName, Storer>();
  for (const name of new Set([...configuredStorageNames(config), ...also])) {
    switch (name) {
      case 'tekton':
        out.set(name, new TektonStorer());
        break;
      case 'oci':
        out.set(
          name,
          new OciStorer({
            credentials: deps.credentials,
            ...(deps.logger ? { logger: deps.logger } : {}),
            ...(deps.locks ? { locks: deps.locks } : {}),
            ...(deps.caBundle ? { caBundle: deps.caBundle } : {}),
          }),
        );
        break;
      case 'gcs':
        out.set(name, kept(deps.previous, name, gcsSettings(config)) ?? new GcsStorer(config));
        break;
      case 'docdb':
        out.set(name, kept(deps.previous, name, docdbSettings(config)) ?? new DocdbStorer(config));
        break;
      case 'kafka':
        out.set(name, kept(deps.previous, name, kafkaSettings(config)) ?? new KafkaStorer(config));
        break;
      case 'archivista':
        out.set(name, kept(deps.previous, name, archivistaSettings(config)) ?? new ArchivistaStorer(config));
        break;
      case 'grafeas':
        out.set(name, createGrafeasStorer(deps.logger ? { logger: deps.logger } : {}));
        break;
    }
  }
  return out;
}

/** The previous storer of `name` when it was built from the same settings. */
function kept(
  previous: ReadonlyMap<StorageName, Storer> | undefined,
  name: StorageName,
  settings: string,
): Storer | undefined {
  const p = previous?.get(name);
  return p?.settings !== undefined && p.settings === settings ? p : undefined;
}

/**
 * Closes the storers of `previous` that `next` no longer uses (all of them when `next` is empty, at shutdown); each
 * waits for its stores in flight. Failures are logged, never thrown: the config change has already happened.
 */
export async function closeReplacedStorers(
  previous: ReadonlyMap<StorageName, Storer>,
  next: ReadonlyMap<StorageName, Storer>,
  logger?: Logger,
): Promise<void> {
  const kept = new Set(next.values());
  await Promise.all(
    [...previous.values()]
      .filter((s) => !kept.has(s) && s.close)
      .map(async (s) => {
        try {
          await s.close?.();
        } catch (err) {
          logger?.warn('closing a replaced storage backend failed', { backend: s.name, error: messageOf(err) });
        }
      }),
  );
}
