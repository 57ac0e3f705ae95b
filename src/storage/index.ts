// Builds the storage backends a config names, once per config (Chains rebuilds them per controller and per
// change too, but signers per call — we build neither per run). Backends chainsmith does not implement fail
// every store with a clear reason instead of being silently skipped, so a run is never marked signed when a
// configured backend did not store its result.
import type { Logger } from 'winston';
import type { ChainsConfig, StorageName } from '../config/types.js';
import { ChainsmithError } from '../errors.js';
import type { RegistryCredentialSource } from '../kube/registry-credentials.js';
import { KeyedMutex } from '../oci/keyed-mutex.js';
import { OciStorer } from './oci.js';
import type { Storer, StoreResult } from './storer.js';
import { TektonStorer } from './tekton.js';

export interface StorerDeps {
  credentials: RegistryCredentialSource;
  logger?: Logger;
  /** shared across rebuilds so writes to one OCI tag stay serialised while configs change */
  locks?: KeyedMutex;
  caBundle?: string;
}

/** A backend named in the config that chainsmith does not implement. */
export class UnsupportedStorer implements Storer {
  constructor(readonly name: StorageName) {}
  async store(): Promise<StoreResult> {
    throw new ChainsmithError(
      'StorageFailed',
      `storage backend "${this.name}" is not supported by chainsmith; ` +
        'remove it from the artifacts.*.storage keys of chains-config',
    );
  }
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

/** One Storer per storage name the config uses. */
export function buildStorers(config: ChainsConfig, deps: StorerDeps): Map<StorageName, Storer> {
  const out = new Map<StorageName, Storer>();
  for (const name of configuredStorageNames(config)) {
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
      default:
        out.set(name, new UnsupportedStorer(name));
    }
  }
  return out;
}
