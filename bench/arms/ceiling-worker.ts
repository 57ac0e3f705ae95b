// The ceiling arm's process: a plain client that does the least any signer must do, with no limit
// on concurrency and no signing. Its throughput is the physical limit of this API server (and, for
// `oci` storage, this registry) on this machine.
//
// - `tekton` storage (config 1): for each finished, unmarked run, one merge patch writing the same
//   annotations Chains' `tekton` storage writes (a payload-sized payload, a signature-sized
//   envelope, empty cert/chain) plus `signed: "true"`.
// - `oci` storage (config 2, `--oci`): for each finished, unmarked run, the image named by its
//   IMAGE_URL/IMAGE_DIGEST results gets a `.sig` and an `.att` tag in cosign's layout, written
//   blind (per tag: two blob uploads, POST + PUT each, and the manifest PUT — no reads, where a
//   real signer must first read the tag to append to it), then one merge patch `signed: "true"`.
// Usage: node --import tsx bench/arms/ceiling-worker.ts KUBECONFIG [--oci]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiClient } from '../lib/api.js';
import { closeRegistryConnections, putManifest, sha256, uploadBlob } from '../lib/registry.js';

const PAYLOAD = randomBytes(2400).toString('base64'); // ~3.2 kB, like an in-toto payload of these runs
const SIGNATURE = randomBytes(3300).toString('base64'); // ~4.4 kB, like the DSSE envelope around it
// ~6 kB, like a slsa/v2alpha4 envelope of these runs; each run's is its own, as a signer's would be.
const envelope = (): Buffer =>
  Buffer.from(
    JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: randomBytes(4500).toString('base64'),
      signatures: [{ keyid: '', sig: randomBytes(72).toString('base64') }],
    }),
  );

const oci = process.argv.includes('--oci');
const api = new ApiClient(ApiClient.targetFromKubeconfig(readFileSync(process.argv[2]!, 'utf8')), 256);
const seen = new Set<string>();

interface RunObject {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
  status?: { conditions?: Array<{ type: string; status: string }>; results?: Array<{ name: string; value: unknown }> };
}

function done(run: RunObject): boolean {
  return (run.status?.conditions ?? []).some(
    (c) => c.type === 'Succeeded' && (c.status === 'True' || c.status === 'False'),
  );
}

/** One cosign tag with one layer, written blind: the layer blob, a config blob, the manifest. */
async function pushTag(
  base: string,
  tag: string,
  layer: Buffer,
  layerType: string,
  annotations: Record<string, string>,
): Promise<void> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
      config: {},
    }),
  );
  await Promise.all([uploadBlob(base, layer), uploadBlob(base, config)]);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha256(config) },
      layers: [{ mediaType: layerType, size: layer.length, digest: sha256(layer), annotations }],
    }),
  );
  await putManifest(base, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
}

/** The `.sig` and `.att` of the run's image (IMAGE_URL/IMAGE_DIGEST results). */
async function pushSignatures(run: RunObject): Promise<void> {
  const result = (name: string): string => String(run.status?.results?.find((r) => r.name === name)?.value ?? '');
  const url = result('IMAGE_URL');
  const digest = result('IMAGE_DIGEST');
  const slash = url.indexOf('/');
  if (slash < 0 || !digest.startsWith('sha256:')) throw new Error(`run has no IMAGE_URL/IMAGE_DIGEST results`);
  const base = `http://${url.slice(0, slash)}/v2/${url.slice(slash + 1)}`;
  const prefix = `sha256-${digest.slice('sha256:'.length)}`;
  const payload = Buffer.from(
    `{"critical":{"identity":{"docker-reference":"${url}"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
  );
  await Promise.all([
    pushTag(base, `${prefix}.sig`, payload, 'application/vnd.dev.cosign.simplesigning.v1+json', {
      'dev.cosignproject.cosign/signature': randomBytes(72).toString('base64'),
    }),
    pushTag(base, `${prefix}.att`, envelope(), 'application/vnd.dsse.envelope.v1+json', {
      'dev.cosignproject.cosign/signature': '',
      predicateType: 'https://slsa.dev/provenance/v1',
    }),
  ]);
}

async function mark(plural: string, kind: string, run: RunObject): Promise<void> {
  const { name, namespace, uid } = run.metadata;
  const id = `${kind}-${uid}`;
  let annotations: Record<string, string> = { 'chains.tekton.dev/signed': 'true' };
  if (oci) await pushSignatures(run);
  else {
    annotations = {
      [`chains.tekton.dev/payload-${id}`]: PAYLOAD,
      [`chains.tekton.dev/signature-${id}`]: SIGNATURE,
      [`chains.tekton.dev/cert-${id}`]: '',
      [`chains.tekton.dev/chain-${id}`]: '',
      ...annotations,
    };
  }
  await api.callRetrying(
    'PATCH',
    `/apis/tekton.dev/v1/namespaces/${namespace}/${plural}/${name}`,
    { metadata: { annotations } },
    'application/merge-patch+json',
  );
}

function onEvent(plural: string, kind: string, run: RunObject): void {
  const key = `${plural}/${run.metadata.namespace}/${run.metadata.name}`;
  if (seen.has(key) || run.metadata.annotations?.['chains.tekton.dev/signed'] === 'true' || !done(run)) return;
  seen.add(key);
  void markRetrying(plural, kind, run, key);
}

async function markRetrying(plural: string, kind: string, run: RunObject, key: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await mark(plural, kind, run);
    } catch (err) {
      process.stderr.write(`${key} attempt ${attempt} failed: ${(err as Error).message}\n`);
      if (attempt >= 5) return void seen.delete(key);
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

const watches = [
  api.watch('/apis/tekton.dev/v1/taskruns', (_t, obj) => onEvent('taskruns', 'taskrun', obj as unknown as RunObject)),
  api.watch('/apis/tekton.dev/v1/pipelineruns', (_t, obj) =>
    onEvent('pipelineruns', 'pipelinerun', obj as unknown as RunObject),
  ),
];
process.stdout.write(
  `ceiling client watching taskruns and pipelineruns (${oci ? 'oci: .sig and .att pushed blind, then signed=true' : 'tekton: annotations in one patch'})\n`,
);
process.once('SIGTERM', () => {
  for (const w of watches) w.stop();
  api.close();
  closeRegistryConnections();
  process.exit(0);
});
