// Reads back the `tekton` backend: the chains.tekton.dev/payload-<key> and signature-<key> annotations on the run
// (base64, as `tkn chain payload/signature` read them), own provenance first.
import { CHAINS_PREFIX, tektonAnnotationKeys } from '../../tekton/annotations.js';
import type { Run } from '../../tekton/types.js';
import { ownShortKey, type StoredReader, type StoredSignature } from './types.js';

const PAYLOAD_PREFIX = `${CHAINS_PREFIX}payload-`;

function decode(value: string | undefined): Buffer | undefined {
  return value === undefined || value === '' ? undefined : Buffer.from(value, 'base64');
}

/** The tekton-storage entries of a run, its own provenance first, then by short key. */
export function tektonEntries(run: Run): StoredSignature[] {
  const annotations = run.metadata.annotations ?? {};
  const ownKey = ownShortKey(run);
  const shortKeys = Object.keys(annotations)
    .filter((k) => k.startsWith(PAYLOAD_PREFIX))
    .map((k) => k.slice(PAYLOAD_PREFIX.length))
    .sort((a, b) => (a === ownKey ? -1 : b === ownKey ? 1 : a.localeCompare(b)));
  return shortKeys.map((shortKey) => {
    const keys = tektonAnnotationKeys(shortKey);
    const payload = decode(annotations[keys.payload]);
    const signature = decode(annotations[keys.signature]);
    const entry: StoredSignature = {
      shortKey,
      payload: payload ?? Buffer.alloc(0),
      signature: signature ?? Buffer.alloc(0),
      where: `annotation ${keys.signature}`,
    };
    const cert = decode(annotations[keys.cert]);
    const chain = decode(annotations[keys.chain]);
    if (cert) entry.cert = cert.toString('utf8');
    if (chain) entry.chain = chain.toString('utf8');
    if (!payload || !signature) entry.problem = `${payload ? keys.signature : keys.payload} is missing or empty`;
    return entry;
  });
}

/** The `tekton` reader: no API call, the run object already holds everything. */
export class TektonReader implements StoredReader {
  readonly name = 'tekton';
  readonly location = 'the run annotations';

  async read(run: Run): Promise<StoredSignature[]> {
    return tektonEntries(run);
  }
}
