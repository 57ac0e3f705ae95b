// `verify-run` of the `tekton` backend: what it wrote in the run's annotations (`payload-`/`signature-<key>`), read by
// src/storage/read/tekton.ts and checked by run-entries.ts, the same checks as every other backend.
import type { KeyObject } from 'node:crypto';
import { tektonEntries } from '../storage/read/tekton.js';
import { CHAINS_PREFIX } from '../tekton/annotations.js';
import type { Run } from '../tekton/types.js';
import { verifyRunEntries, type RunVerifyReport } from './run-entries.js';

export type { RunVerifyReport, StoredEntry } from './run-entries.js';

/** Verifies every tekton-storage payload on the run; the run passes when there is at least one and all pass. */
export function verifyRunAnnotations(run: Run, key: KeyObject): RunVerifyReport {
  return verifyRunEntries(run, tektonEntries(run), key, {
    backend: 'tekton',
    location: 'the run annotations',
    nothingStored:
      `no ${CHAINS_PREFIX}payload-* annotations: nothing was stored with the tekton backend ` +
      '(is the run signed, and is storage "tekton" enabled?)',
  });
}
