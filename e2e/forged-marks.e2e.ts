// Marks are trusted only with a valid signature (issue 15, src/pipeline/mark-trust.ts), against the real stack:
// a run that carries `signed: "true"` plus `chainsmith.dev/signed-at` and another run's mark signature, and a run
// given another run's stored provenance and signature under its own uid, are both signed for real by the
// controller (not skipped, as the old evidence test and Tekton Chains skip them). `audit --key` then counts
// every real mark as signed and a forged one, made while no controller runs, as unverified.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { TASKRUNS } from '../src/kube/client.js';
import {
  completeTaskRun,
  createNamespace,
  createTaskRun,
  getTaskRun,
  kube,
  waitFor,
  type ControllerProcess,
} from './lib/index.js';
import { chainsmithCli, startSigningController, writeChainsConfig, x509SecretsDir } from './lib/scenario.js';
import type { TaskRun } from '../src/tekton/types.js';
import type { AuditResult } from '../src/audit/audit.js';

async function patchAnnotations(ns: string, name: string, annotations: Record<string, string>): Promise<void> {
  await kube().mergePatch(TASKRUNS, ns, name, { metadata: { annotations } });
}

async function signedByController(ns: string, name: string, isReal: (tr: TaskRun) => boolean): Promise<TaskRun> {
  return waitFor(
    async () => {
      const tr = await getTaskRun(ns, name);
      return tr.metadata.annotations?.['chains.tekton.dev/signed'] === 'true' && isReal(tr) ? tr : undefined;
    },
    { timeoutMs: 60_000, description: `${name} really signed by the controller` },
  );
}

describe('forged signed marks', () => {
  let ns: string;
  let systemNs: string;
  let keysDir: string;
  let controller: ControllerProcess | undefined;
  const names = { genuine: '', copiedMark: '', replayed: '', forgedOffline: '' };

  before(async () => {
    ns = await createNamespace('forged');
    systemNs = await createNamespace('forged-sys');
    keysDir = await x509SecretsDir('chainsmith-forged-keys-');
    // run provenance in the run's annotations (tekton storage), no registry needed
    await writeChainsConfig(systemNs, { 'artifacts.oci.storage': '' });
    controller = await startSigningController(ns, systemNs, keysDir);
  });

  after(async () => {
    await controller?.stop();
    await rm(keysDir, { recursive: true, force: true });
  });

  test("another run's mark signature and provenance do not make a run look signed: the controller signs it", async () => {
    const genuine = await createTaskRun(ns);
    names.genuine = genuine.metadata.name!;
    await completeTaskRun(ns, names.genuine);
    const g = await signedByController(
      ns,
      names.genuine,
      (tr) => tr.metadata.annotations?.['chainsmith.dev/mark-signature'] !== undefined,
    );
    const ga = g.metadata.annotations!;
    const gKey = `taskrun-${g.metadata.uid}`;

    // 1. created with the mark, a signed-at and the genuine run's mark signature
    const copied = await createTaskRun(ns, {
      metadata: {
        annotations: {
          'chains.tekton.dev/signed': 'true',
          'chainsmith.dev/signed-at': ga['chainsmith.dev/signed-at']!,
          'chainsmith.dev/mark-signature': ga['chainsmith.dev/mark-signature']!,
        },
      },
    });
    names.copiedMark = copied.metadata.name!;
    await new Promise((r) => setTimeout(r, 1100)); // other start/completion seconds than the genuine run
    await completeTaskRun(ns, names.copiedMark);

    // 2. given the genuine run's stored provenance and signature under its own uid, then completed
    const replayed = await createTaskRun(ns);
    names.replayed = replayed.metadata.name!;
    const rKey = `taskrun-${replayed.metadata.uid}`;
    const copy: Record<string, string> = {
      'chains.tekton.dev/signed': 'true',
      'chainsmith.dev/signed-at': ga['chainsmith.dev/signed-at']!,
    };
    for (const part of ['payload', 'signature', 'cert', 'chain'])
      copy[`chains.tekton.dev/${part}-${rKey}`] = ga[`chains.tekton.dev/${part}-${gKey}`]!;
    await patchAnnotations(ns, names.replayed, copy);
    await completeTaskRun(ns, names.replayed);

    const c = await signedByController(
      ns,
      names.copiedMark,
      (tr) => tr.metadata.annotations?.['chainsmith.dev/mark-signature'] !== ga['chainsmith.dev/mark-signature'],
    );
    assert.ok(
      c.metadata.annotations![`chains.tekton.dev/signature-taskrun-${c.metadata.uid}`],
      'its own provenance was stored',
    );
    const r = await signedByController(
      ns,
      names.replayed,
      (tr) =>
        tr.metadata.annotations?.[`chains.tekton.dev/signature-${rKey}`] !== ga[`chains.tekton.dev/signature-${gKey}`],
    );
    const statement = JSON.parse(
      Buffer.from(r.metadata.annotations![`chains.tekton.dev/payload-${rKey}`]!, 'base64').toString(),
    );
    assert.equal(
      Date.parse(statement.predicate.metadata.buildFinishedOn),
      Date.parse(r.status!.completionTime!),
      'the provenance now describes this run',
    );
    assert.ok(
      controller!.lines.every((l) => !l.includes('unexpected error')),
      'no unexpected errors',
    );
  });

  test('audit --key counts real marks as signed and a forged one as unverified; the re-signed run passes verify-run', async () => {
    await controller!.stop();
    controller = undefined;
    const forged = await createTaskRun(ns, {
      metadata: {
        annotations: { 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-01-01T00:00:00Z' },
      },
    });
    names.forgedOffline = forged.metadata.name!;
    await completeTaskRun(ns, names.forgedOffline);

    const res = await chainsmithCli([
      'audit',
      '--namespace',
      ns,
      '--system-namespace',
      systemNs,
      '--key',
      join(keysDir, 'cosign.pub'),
      '--json',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as AuditResult;
    const state = Object.fromEntries(report.runs.map((e) => [e.name, e.state]));
    assert.deepEqual(
      [state[names.genuine], state[names.copiedMark], state[names.replayed], state[names.forgedOffline]],
      ['signed', 'signed', 'signed', 'unverified'],
    );
    assert.equal(report.summary.totals.unverified, 1);

    const text = await chainsmithCli(['audit', '--namespace', ns, '--system-namespace', systemNs]);
    assert.match(text.stdout, /signed marks NOT verified/);

    const ok = await chainsmithCli(['verify-run', `${ns}/${names.replayed}`, '--key', join(keysDir, 'cosign.pub')]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });
});
