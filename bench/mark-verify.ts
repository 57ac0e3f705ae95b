// Benchmark: the controller's start-up cost of verifying signed marks (src/pipeline/mark-trust.ts). Summarises
// 5,000 historical signed TaskRuns with the verifying RunCache, for each kind of evidence: chainsmith's
// mark signature, a Chains tekton-storage provenance envelope (SLSA v0.2, verified and bound to the run), and
// forged marks (nothing verifies; worst case: both checks run). Prints totals and per-run cost; asserts nothing.
// Run: node --import tsx bench/mark-verify.ts [runs]
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG } from '../src/config/parse.js';
import { MarkVerifier, markEvidence } from '../src/pipeline/mark-trust.js';
import { RunCache } from '../src/controller/run-cache.js';
import { payloadFormat } from '../src/formats/index.js';
import { signPayload } from '../src/sigstore/sign-payload.js';
import type { Signer } from '../src/signing/signer.js';
import { TektonStorer } from '../src/storage/tekton.js';
import type { TaskRun } from '../src/tekton/types.js';

const RUNS = Number(process.argv[2] ?? 5000);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer: Signer = {
  sign: async (d) => cryptoSign('sha256', d, privateKey),
  publicKey: () => publicKey,
  cert: () => '',
  chain: () => '',
  description: 'P-256',
};
const base = JSON.parse(
  readFileSync(new URL('../test/fixtures/formats/buildah-taskrun.json', import.meta.url), 'utf8'),
) as TaskRun;

function taskRun(i: number): TaskRun {
  const tr = structuredClone(base);
  tr.metadata = {
    ...tr.metadata,
    name: `build-${i}`,
    namespace: 'ns',
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  };
  return tr;
}

async function withMarkSignature(tr: TaskRun): Promise<TaskRun> {
  const id = { kind: 'TaskRun' as const, namespace: 'ns', name: tr.metadata.name!, uid: tr.metadata.uid! };
  tr.metadata.annotations = {
    'chains.tekton.dev/signed': 'true',
    ...(await markEvidence(id, DEFAULT_CONFIG, async () => signer, new Date())),
  };
  return tr;
}

async function withChainsStorage(tr: TaskRun): Promise<TaskRun> {
  const payload = payloadFormat('in-toto').createPayload({ kind: 'TaskRun', run: tr }, DEFAULT_CONFIG);
  const signed = await signPayload(signer, payload);
  const shortKey = `taskrun-${tr.metadata.uid}`;
  const stored = await new TektonStorer().store({
    run: tr,
    payload,
    signed,
    shortKey,
    fullKey: shortKey,
    config: DEFAULT_CONFIG,
  });
  tr.metadata.annotations = { 'chains.tekton.dev/signed': 'true', ...stored.annotations };
  return tr;
}

function forged(tr: TaskRun): TaskRun {
  tr.metadata.annotations = {
    'chains.tekton.dev/signed': 'true',
    'chainsmith.dev/signed-at': '2026-01-01T00:00:00Z',
    'chainsmith.dev/mark-signature': 'MEUCIQDx',
    [`chains.tekton.dev/signature-taskrun-${tr.metadata.uid}`]: 'e30=',
  };
  return tr;
}

const marks = new MarkVerifier();
await marks.refresh(DEFAULT_CONFIG, async () => signer);
const cases: Array<[string, (i: number) => Promise<TaskRun> | TaskRun, boolean]> = [
  ['chainsmith mark signature', (i) => withMarkSignature(taskRun(i)), true],
  ['Chains tekton storage (v0.2 envelope)', (i) => withChainsStorage(taskRun(i)), true],
  ['forged evidence', (i) => forged(taskRun(i)), false],
];
console.log(`summarising ${RUNS} signed TaskRuns with mark verification (P-256)`);
for (const [name, make, expectTrusted] of cases) {
  const runs: TaskRun[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await make(i));
  const bytes = Buffer.byteLength(JSON.stringify(runs[0]!.metadata.annotations));
  const cache = new RunCache(undefined, marks);
  const started = process.hrtime.bigint();
  let trusted = 0;
  for (const r of runs) if (cache.upsert(r).cur.annotations['chains.tekton.dev/signed'] === 'true') trusted++;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if ((trusted === RUNS) !== expectTrusted) throw new Error(`${name}: ${trusted} of ${RUNS} trusted`);
  console.log(
    `${name.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms total  ${((ms * 1000) / RUNS).toFixed(1).padStart(7)} µs/run  (${bytes} B of annotations per run, ${trusted} trusted)`,
  );
}
