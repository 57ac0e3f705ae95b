// `verify-run --from BACKEND` and `audit --from BACKEND`: read what one backend stored for a run (src/storage/read)
// and check it exactly as the annotations are checked (run-entries.ts).
import type { KeyObject } from 'node:crypto';
import { resultDigests } from '../storage/read/digests.js';
import type { StoredReader } from '../storage/read/types.js';
import type { Run } from '../tekton/types.js';
import { statementOwnedBy, verifyRunEntries, type RunVerifyReport } from './run-entries.js';

/** Why a backend may hold nothing for a run, in words a user can act on. */
function nothingStored(reader: StoredReader, run: Run): string {
  const base = `nothing stored for this run in ${reader.name} (${reader.location})`;
  if (reader.name === 'tekton')
    return (
      'no chains.tekton.dev/payload-* annotations: nothing was stored with the tekton backend ' +
      '(is the run signed, and is storage "tekton" enabled?)'
    );
  if ((reader.name === 'archivista' || reader.name === 'grafeas') && resultDigests(run).length === 0)
    return `${base}: ${reader.name} is searched by subject digest and this run's results name none`;
  return `${base} (is the run signed, and does chains-config store its signatures in ${reader.name}?)`;
}

/** Reads the run's stored signatures from `reader` and verifies them with `key`; throws when it cannot read. */
export async function verifyRunFrom(run: Run, reader: StoredReader, key: KeyObject): Promise<RunVerifyReport> {
  const entries = await reader.read(run, { ownsStatement: statementOwnedBy(run) });
  return verifyRunEntries(run, entries, key, {
    backend: reader.name,
    location: reader.location,
    nothingStored: nothingStored(reader, run),
  });
}
