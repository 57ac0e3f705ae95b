// The verification policies published in docs/policies/ (and quoted in the README and docs/verify.md),
// checked with the real cosign CLI against attestations the controller pushed: the SLSA v0.2 policies
// (format slsa/v1, `--type slsaprovenance`) and the SLSA v1.0 ones (format slsa/v2alpha4,
// `--type slsaprovenance1`), each in CUE and Rego. Each must accept the configured builder.id and
// reject another one because of the policy (not for some other reason).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createNamespace,
  getTaskRun,
  pushRandomImage,
  REPO_ROOT,
  stackEnv,
  waitFor,
  type ControllerProcess,
} from './lib/index.js';
import { completeImageTaskRun, startSigningController, writeChainsConfig } from './lib/scenario.js';

const DOCS_BUILDER = 'https://tekton.dev/chains/v2'; // the id written in the docs' example policies
const BUILDER = 'https://ci.example.com/tekton/policies-e2e';
const PASSWORD = 'policies-e2e-password';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120_000, maxBuffer: 16 << 20, ...opts }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

let work: string;
let publicKey: string;
const controllers: ControllerProcess[] = [];
/** image reference (repo@digest) signed under each format */
const signed: Record<'slsa/v1' | 'slsa/v2alpha4', string> = { 'slsa/v1': '', 'slsa/v2alpha4': '' };

/** One controller per format, each with its own namespaces and chains-config; signs one TaskRun with oci storage. */
async function signWithFormat(format: 'slsa/v1' | 'slsa/v2alpha4', secretsDir: string): Promise<string> {
  const ns = await createNamespace(`policies-${format.replace(/\W/g, '')}`);
  const systemNs = await createNamespace(`policies-${format.replace(/\W/g, '')}-system`);
  await writeChainsConfig(systemNs, {
    'artifacts.taskrun.format': format,
    'artifacts.taskrun.storage': 'oci',
    'artifacts.oci.storage': 'oci',
    'builder.id': BUILDER,
  });
  const controller = await startSigningController(ns, systemNs, secretsDir, { waitSynced: false });
  controllers.push(controller);
  const image = await pushRandomImage(`${stackEnv().registry}/policies-e2e/${format.replace(/\W/g, '')}`);
  const name = await completeImageTaskRun(ns, image);
  await waitFor(
    async () => (await getTaskRun(ns, name)).metadata.annotations?.['chains.tekton.dev/signed'] === 'true',
    {
      timeoutMs: 60_000,
      description: `TaskRun ${ns}/${name} signed with format ${format}\n${controller.logs().slice(-2000)}`,
    },
  );
  return `${image.repository}@${image.digest}`;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'chainsmith-policies-'));
  const secrets = join(work, 'signing-secrets');
  await exec('mkdir', ['-p', secrets]);
  // The key pair exactly as the docs tell users to make it.
  const gen = await exec(stackEnv().cosign, ['generate-key-pair'], {
    cwd: secrets,
    env: { ...process.env, COSIGN_PASSWORD: PASSWORD },
  });
  assert.equal(gen.code, 0, gen.stderr);
  await writeFile(join(secrets, 'cosign.password'), PASSWORD);
  publicKey = join(secrets, 'cosign.pub');
  const [v02, v1] = await Promise.all([signWithFormat('slsa/v1', secrets), signWithFormat('slsa/v2alpha4', secrets)]);
  signed['slsa/v1'] = v02;
  signed['slsa/v2alpha4'] = v1;
});

after(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  if (work) await rm(work, { recursive: true, force: true });
});

/** A docs policy with its example builder.id replaced, written next to the key. */
async function policy(file: string, builderId: string): Promise<string> {
  const text = await readFile(join(REPO_ROOT, 'docs/policies', file), 'utf8');
  assert.ok(text.includes(DOCS_BUILDER), `${file} names the example builder id`);
  const out = join(work, `${builderId.replace(/\W/g, '_')}-${file}`);
  await writeFile(out, text.replaceAll(DOCS_BUILDER, builderId));
  return out;
}

function verifyAttestation(type: string, policyFile: string, image: string): Promise<Result> {
  return exec(stackEnv().cosign, [
    'verify-attestation',
    '--key',
    publicKey,
    '--insecure-ignore-tlog=true',
    '--allow-http-registry=true',
    '--type',
    type,
    '--policy',
    policyFile,
    image,
  ]);
}

const cases = [
  { file: 'builder.cue', format: 'slsa/v1', type: 'slsaprovenance' },
  { file: 'builder.rego', format: 'slsa/v1', type: 'slsaprovenance' },
  { file: 'builder-v1.cue', format: 'slsa/v2alpha4', type: 'slsaprovenance1' },
  { file: 'builder-v1.rego', format: 'slsa/v2alpha4', type: 'slsaprovenance1' },
] as const;

for (const c of cases) {
  test(`docs/policies/${c.file} accepts our builder.id and rejects another (${c.format}, --type ${c.type})`, async () => {
    const image = signed[c.format];
    const ok = await verifyAttestation(c.type, await policy(c.file, BUILDER), image);
    assert.equal(ok.code, 0, `cosign verify-attestation with ${c.file} failed:\n${ok.stderr}`);
    const statement = JSON.parse(
      Buffer.from((JSON.parse(ok.stdout.trim().split('\n')[0]!) as { payload: string }).payload, 'base64').toString(),
    ) as {
      predicateType: string;
    };
    assert.equal(
      statement.predicateType,
      c.type === 'slsaprovenance' ? 'https://slsa.dev/provenance/v0.2' : 'https://slsa.dev/provenance/v1',
    );

    const bad = await verifyAttestation(c.type, await policy(c.file, 'https://example.com/not-our-builder'), image);
    assert.notEqual(bad.code, 0, `${c.file} accepted a builder.id nobody signed with`);
    assert.match(bad.stderr, /polic|validation/i, `rejected for the policy, not something else:\n${bad.stderr}`);
  });
}
