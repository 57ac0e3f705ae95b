// One reader per backend a command reads back from, built from the cluster's chains-config; a backend whose settings
// are missing or wrong is an InvalidConfig error naming the key.
import type { ChainsConfig } from '../../config/types.js';
import { ArchivistaReader } from './archivista.js';
import { DocdbReader } from './docdb.js';
import { GcsReader } from './gcs.js';
import { GrafeasReader } from './grafeas.js';
import { KafkaReader } from './kafka.js';
import { TektonReader } from './tekton.js';
import { READABLE_BACKENDS, type ReadableBackend, type StoredReader } from './types.js';

export { READABLE_BACKENDS, ownShortKey } from './types.js';
export type { ReadableBackend, ReadContext, StoredReader, StoredSignature } from './types.js';
export { tektonEntries } from './tekton.js';

/** The reader of `backend` under `config`; throws InvalidConfig when the config does not say where to read. */
export function openReader(backend: ReadableBackend, config: ChainsConfig): StoredReader {
  switch (backend) {
    case 'tekton':
      return new TektonReader();
    case 'gcs':
      return new GcsReader(config);
    case 'docdb':
      return new DocdbReader(config);
    case 'grafeas':
      return new GrafeasReader(config);
    case 'kafka':
      return new KafkaReader(config);
    case 'archivista':
      return new ArchivistaReader(config);
  }
}

/** The readable backends the config stores a run kind's signatures in (its own storage, and images' for TaskRuns). */
export function configuredReaders(config: ChainsConfig, kind: 'TaskRun' | 'PipelineRun'): ReadableBackend[] {
  const names = new Set<string>();
  const own = kind === 'TaskRun' ? config.artifacts.taskrun : config.artifacts.pipelinerun;
  if (own.signer !== 'none') for (const s of own.storage) names.add(s);
  if (kind === 'TaskRun' && config.artifacts.oci.signer !== 'none')
    for (const s of config.artifacts.oci.storage) names.add(s);
  return READABLE_BACKENDS.filter((n) => names.has(n));
}
