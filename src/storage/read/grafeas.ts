// Reads back the `grafeas` backend (src/storage/grafeas-read.ts): occurrences are found by resource, so the run's
// provenance is looked up in its BUILD note by the `name@sha256:hex` of each subject its results name, and its
// image signatures in the simplesigning note by the images its results name. An attestation occurrence exists once
// per subject; the copies are one stored signature. Only attestations whose statement names this run are kept.
import type { ChainsConfig } from '../../config/types.js';
import { extractOciImages } from '../../artifacts/index.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../../sigstore/dsse.js';
import type { Run } from '../../tekton/types.js';
import { grafeasTarget, type GrafeasConnection } from '../grafeas.js';
import { dsseEnvelopeOf, readGrafeasOccurrences, type GrafeasReadQuery } from '../grafeas-read.js';
import { resultDigests, shortKeyOf } from './digests.js';
import { ownShortKey, type ReadContext, type StoredReader, type StoredSignature } from './types.js';

/** The results' images (TaskRuns: what the controller signs), `repo@sha256:hex`; none when the results are invalid. */
function resultImages(run: Run): string[] {
  if (run.kind !== 'TaskRun') return [];
  try {
    return extractOciImages(run.status?.results ?? []).images.map((i) => `${i.repository}@${i.digest}`);
  } catch {
    return [];
  }
}

/** The `grafeas` reader. */
export class GrafeasReader implements StoredReader {
  readonly name = 'grafeas';
  readonly location: string;

  constructor(
    private readonly config: ChainsConfig,
    private readonly conn: GrafeasConnection = {},
    private readonly readOccurrences = readGrafeasOccurrences,
  ) {
    // throws InvalidConfig without storage.grafeas.projectid
    grafeasTarget(config, 'any', 'image');
    this.location = `projects/${config.storage.grafeas.projectId}`;
  }

  async read(run: Run, ctx: ReadContext): Promise<StoredSignature[]> {
    const namespace = run.metadata.namespace ?? '';
    const object = run.kind === 'PipelineRun' ? 'pipelinerun' : 'taskrun';
    const query = (o: GrafeasReadQuery['object'], resourceUris: string[]) =>
      this.readOccurrences({ config: this.config, namespace, object: o, resourceUris }, this.conn);
    const subjects = resultDigests(run).map((d) => `${d.name}@sha256:${d.hex}`);
    const images = resultImages(run);
    const [builds, signatures] = await Promise.all([query(object, subjects), query('image', images)]);
    const out: StoredSignature[] = [];
    const seen = new Set<string>();
    const own = ownShortKey(run);
    for (const occ of builds) {
      if (occ.payloadType !== IN_TOTO_PAYLOAD_TYPE || !ctx.ownsStatement(occ.payload)) continue;
      const signature = dsseEnvelopeOf(occ);
      const id = signature.toString('base64');
      if (seen.has(id)) continue; // the same envelope, stored once per subject
      seen.add(id);
      out.push({ shortKey: own, payload: occ.payload, signature, where: `occurrence ${occ.name}` });
    }
    for (const occ of signatures) {
      const hex = /@sha256:([0-9a-f]{64})$/.exec(occ.resourceUri)?.[1];
      if (!hex) continue;
      for (const s of occ.signatures) {
        out.push({
          shortKey: shortKeyOf(hex),
          payload: occ.payload,
          signature: s.sig,
          where: `occurrence ${occ.name}`,
        });
      }
    }
    return out;
  }
}
