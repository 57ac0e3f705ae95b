// Replay: provenance signed for one run, copied onto another run under that run's own annotation keys, must not
// verify as the other run's provenance. Every run format is built by the real payload formats from fixture runs,
// signed by the real signer and stored by the real tekton backend, as the controller does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import type { RunFormat } from '../../src/config/types.js';
import { payloadFormat, RUN_FORMATS } from '../../src/formats/index.js';
import type { FormatInput } from '../../src/formats/types.js';
import { loadFileSigner } from '../../src/signing/keys.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import { TektonStorer } from '../../src/storage/tekton.js';
import type { PipelineRun, Run, TaskRun } from '../../src/tekton/types.js';
import { parsePublicKeyPem } from '../../src/verify/key.js';
import { verifyRunAnnotations } from '../../src/verify/run-annotations.js';

const KEYS = join(import.meta.dirname, '..', 'fixtures', 'keys');
const FORMATS = join(import.meta.dirname, '..', 'fixtures', 'formats');
const KEY = parsePublicKeyPem(readFileSync(join(KEYS, 'cosign-ecdsa-p256', 'cosign.pub'), 'utf8'));
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(FORMATS, name), 'utf8')) as T;

function taskRun(uid: string, start = '2026-11-20T10:14:55Z', end = '2026-11-20T10:16:41Z'): TaskRun {
  const tr = fixture<TaskRun>('buildah-taskrun.json');
  tr.metadata = { ...tr.metadata, uid, namespace: 'ns', name: `build-${uid}` };
  tr.status = { ...tr.status, startTime: start, completionTime: end };
  return tr;
}

function pipelineRun(uid: string, start = '2021-03-29T09:50:00Z', end = '2021-03-29T09:50:15Z'): PipelineRun {
  const pr = fixture<PipelineRun>('pipeline-v1-pipelinerun1.json');
  pr.metadata = { ...pr.metadata, uid, namespace: 'ns', name: `pipeline-${uid}` };
  pr.status = { ...pr.status, startTime: start, completionTime: end };
  return pr;
}

/** The run with its provenance in `format` signed and stored on it, as the controller writes it. */
async function signed<T extends Run>(run: T, format: RunFormat): Promise<T> {
  const input: FormatInput =
    run.kind === 'TaskRun'
      ? { kind: 'TaskRun', run: run as TaskRun }
      : { kind: 'PipelineRun', run: { run: run as PipelineRun, children: [] } };
  const payload = payloadFormat(format).createPayload(input, DEFAULT_CONFIG);
  const sig = await signPayload(await loadFileSigner(join(KEYS, 'cosign-ecdsa-p256')), payload);
  const shortKey = `${run.kind.toLowerCase()}-${run.metadata.uid}`;
  const stored = await new TektonStorer().store({
    run,
    payload,
    signed: sig,
    shortKey,
    fullKey: shortKey,
    config: DEFAULT_CONFIG,
  });
  run.metadata.annotations = { ...run.metadata.annotations, ...stored.annotations, 'chains.tekton.dev/signed': 'true' };
  return run;
}

/** Copies the victim's stored provenance onto `target` under the target's own keys (what an attacker would do). */
function replay<T extends Run>(from: Run, target: T): T {
  const fromKey = `${from.kind.toLowerCase()}-${from.metadata.uid}`;
  const toKey = `${target.kind.toLowerCase()}-${target.metadata.uid}`;
  const annotations: Record<string, string> = { 'chains.tekton.dev/signed': 'true' };
  for (const part of ['payload', 'signature', 'cert', 'chain']) {
    annotations[`chains.tekton.dev/${part}-${toKey}`] =
      from.metadata.annotations![`chains.tekton.dev/${part}-${fromKey}`]!;
  }
  target.metadata.annotations = annotations;
  return target;
}

const V1 = new Set<RunFormat>(['slsa/v2alpha3', 'slsa/v2alpha4']);

for (const format of RUN_FORMATS) {
  test(`${format}: a TaskRun's own provenance verifies; replayed onto another TaskRun it does not`, async () => {
    const own = await signed(taskRun('uid-a'), format);
    const ok = verifyRunAnnotations(own, KEY);
    assert.equal(ok.verified, true, ok.firstFailure);

    const victim = replay(own, taskRun('uid-b', '2026-11-20T11:00:00Z', '2026-11-20T11:02:00Z'));
    const report = verifyRunAnnotations(victim, KEY);
    assert.equal(report.verified, false);
    // the signature itself is valid: what fails is the binding to the run, named by its field
    assert.equal(report.entries[0]!.checks.find((c) => c.name === 'signature')?.status, 'passed');
    if (V1.has(format)) {
      assert.match(
        report.firstFailure!,
        /run-uid: predicate\.runDetails\.metadata\.invocationId is "uid-a", but this run's uid is "uid-b"/,
      );
    } else {
      assert.match(
        report.firstFailure!,
        /run-times: predicate\.metadata\.buildStartedOn is "2026-11-20T10:14:55Z", but this run's status\.startTime is "2026-11-20T11:00:00Z"/,
      );
    }
  });

  test(`${format}: a PipelineRun's provenance replayed onto another PipelineRun, or onto a TaskRun, does not verify`, async () => {
    const own = await signed(pipelineRun('pr-a'), format);
    assert.equal(verifyRunAnnotations(own, KEY).verified, true, verifyRunAnnotations(own, KEY).firstFailure);

    const other = verifyRunAnnotations(
      replay(own, pipelineRun('pr-b', '2021-03-30T09:50:00Z', '2021-03-30T09:51:00Z')),
      KEY,
    );
    assert.equal(other.verified, false);
    assert.match(
      other.firstFailure!,
      V1.has(format) ? /run-uid: .*invocationId is "pr-a".*"pr-b"/ : /run-times: predicate\.metadata\.buildStartedOn/,
    );

    // same times, other kind: the v0.2 buildType names the kind; v1.0 is bound by the uid
    const asTaskRun = verifyRunAnnotations(
      replay(own, taskRun('tr-c', '2021-03-29T09:50:00Z', '2021-03-29T09:50:15Z')),
      KEY,
    );
    assert.equal(asTaskRun.verified, false);
    assert.match(
      asTaskRun.firstFailure!,
      V1.has(format)
        ? /run-uid:/
        : /run-kind: predicate\.buildType is "tekton\.dev\/v1\/PipelineRun", but this run is a TaskRun/,
    );
  });
}

test('SLSA v1.0 provenance that names no invocation id is not bound to any run', async () => {
  const run = await signed(taskRun('uid-a'), 'slsa/v2alpha4');
  const key = 'chains.tekton.dev/payload-taskrun-uid-a';
  // re-sign a statement without the id, as a foreign writer might
  const statement = JSON.parse(Buffer.from(run.metadata.annotations![key]!, 'base64').toString());
  delete statement.predicate.runDetails.metadata.invocationId;
  const payload = { bytes: Buffer.from(JSON.stringify(statement)), kind: 'in-toto' as const };
  const sig = await signPayload(await loadFileSigner(join(KEYS, 'cosign-ecdsa-p256')), payload);
  run.metadata.annotations![key] = sig.payload.toString('base64');
  run.metadata.annotations!['chains.tekton.dev/signature-taskrun-uid-a'] = sig.signature.toString('base64');
  const report = verifyRunAnnotations(run, KEY);
  assert.equal(report.verified, false);
  assert.match(report.firstFailure!, /run-uid: predicate\.runDetails\.metadata\.invocationId is \(missing\)/);
});
