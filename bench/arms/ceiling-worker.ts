// The ceiling arm's process: a plain client that does the least any signer must do — watch runs,
// and for each finished, unmarked one write the same annotations Chains' `tekton` storage writes
// (a payload-sized payload, a signature-sized envelope, empty cert/chain) plus `signed: "true"`
// in one merge patch, with no limit on concurrency. It signs nothing: its throughput is the
// physical limit of this API server on this machine.
// Usage: node --import tsx bench/arms/ceiling-worker.ts KUBECONFIG
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiClient } from '../lib/api.js';

const PAYLOAD = randomBytes(2400).toString('base64'); // ~3.2 kB, like an in-toto payload of these runs
const SIGNATURE = randomBytes(3300).toString('base64'); // ~4.4 kB, like the DSSE envelope around it

const api = new ApiClient(ApiClient.targetFromKubeconfig(readFileSync(process.argv[2]!, 'utf8')), 256);
const seen = new Set<string>();

interface RunObject {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

function done(run: RunObject): boolean {
  return (run.status?.conditions ?? []).some((c) => c.type === 'Succeeded' && (c.status === 'True' || c.status === 'False'));
}

function mark(plural: string, kind: string, run: RunObject): void {
  const { name, namespace, uid } = run.metadata;
  const key = `${plural}/${namespace}/${name}`;
  if (seen.has(key) || run.metadata.annotations?.['chains.tekton.dev/signed'] === 'true' || !done(run)) return;
  seen.add(key);
  const id = `${kind}-${uid}`;
  const annotations = {
    [`chains.tekton.dev/payload-${id}`]: PAYLOAD,
    [`chains.tekton.dev/signature-${id}`]: SIGNATURE,
    [`chains.tekton.dev/cert-${id}`]: '',
    [`chains.tekton.dev/chain-${id}`]: '',
    'chains.tekton.dev/signed': 'true',
  };
  api
    .callRetrying('PATCH', `/apis/tekton.dev/v1/namespaces/${namespace}/${plural}/${name}`, { metadata: { annotations } }, 'application/merge-patch+json')
    .catch((err: Error) => {
      seen.delete(key);
      process.stderr.write(`patch ${key} failed: ${err.message}\n`);
    });
}

const watches = [
  api.watch('/apis/tekton.dev/v1/taskruns', (_t, obj) => mark('taskruns', 'taskrun', obj as unknown as RunObject)),
  api.watch('/apis/tekton.dev/v1/pipelineruns', (_t, obj) => mark('pipelineruns', 'pipelinerun', obj as unknown as RunObject)),
];
process.stdout.write('ceiling client watching taskruns and pipelineruns\n');
process.once('SIGTERM', () => {
  for (const w of watches) w.stop();
  api.close();
  process.exit(0);
});
