// Fault scenario 6 (docs/reliability.md): bad input. One batch mixes good runs with malformed and oversized
// results, non-UTF-8 text, invalid digests, missing status fields, a run *created* with a forged
// `chains.tekton.dev/signed: "true"`, and an image in a registry that answers garbage (a loopback server: there is
// no real registry that misbehaves on purpose). Each bad run gets a clear Event reason, the controller never
// crashes, and every good run in the same batch is signed. Then invalid chains-config values, a corrupt key and
// a wrong password. FAULTS_GOOD_RUNS (CI 10, full 50).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FULL,
  FAULTS_PASSWORD,
  WRONG_PASSWORD,
  buildRun,
  knob,
  pool,
  pushImages,
  recordResult,
  scenario,
  tally,
  writeConfig,
  type Scenario,
} from './lib.js';
import {
  completeTaskRun,
  createTaskRun,
  eventsOf,
  getTaskRun,
  patchRunStatus,
  waitFor,
  type ControllerProcess,
  type CoreEvent,
} from '../lib/index.js';
import type { TaskRun } from '../../src/tekton/types.js';

const GOOD = knob('FAULTS_GOOD_RUNS', 10, 50);

async function waitEvent(ns: string, name: string, reasons: string[], timeoutMs = 60_000): Promise<CoreEvent> {
  return waitFor(async () => (await eventsOf(ns, { name })).find((e) => reasons.includes(e.reason ?? '')), {
    timeoutMs,
    intervalMs: 500,
    description: `an Event ${reasons.join('|')} on ${ns}/${name}`,
  });
}

function alive(c: ControllerProcess): boolean {
  try {
    process.kill(c.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A "registry" that answers every request with 200 and random bytes (or truncated JSON for manifests). */
async function garbageRegistry(): Promise<{ server: Server; host: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    if (req.url?.includes('/manifests/')) {
      res.writeHead(200, {
        'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
        'Docker-Content-Digest': 'sha256:zz',
      });
      res.end('{"schemaVersion": 2, "layers": [');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    res.end(randomBytes(64));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, host: `127.0.0.1:${port}`, paths };
}

const result = (name: string, value: string) => ({ name, type: 'string' as const, value });

describe('bad runs in one batch with good ones', () => {
  let s: Scenario;
  let garbage: { server: Server; host: string; paths: string[] };
  before(async () => {
    s = await scenario('badinput', { 'artifacts.taskrun.storage': 'tekton', 'artifacts.oci.storage': 'tekton,oci' });
    garbage = await garbageRegistry();
  });
  after(async () => {
    garbage?.server.close();
    await s?.teardown();
  });

  test(
    'each bad run gets a clear Event reason; good runs are all signed; the controller never crashes',
    { timeout: FULL ? 1_800_000 : 200_000 },
    async () => {
      const controller = await s.start();
      await controller.waitForLog(/informers synced/, 30_000);
      const images = await pushImages(GOOD + 1, 'badinput');
      const forgedImage = images.pop()!;
      const ns = s.ns;
      const bad: Record<string, { name: string; reasons: string[]; expectSigned: boolean }> = {};
      const make = async (
        key: string,
        reasons: string[],
        expectSigned: boolean,
        status: Parameters<typeof completeTaskRun>[2],
        metadata: TaskRun['metadata'] = {},
      ) => {
        const tr = await createTaskRun(ns, { metadata });
        await completeTaskRun(ns, tr.metadata.name!, status);
        bad[key] = { name: tr.metadata.name!, reasons, expectSigned };
      };
      const goodNames = pool(images, 4, (img) => buildRun(ns, img));
      await Promise.all([
        // provenance is still signed; the unusable result is reported
        make('malformed digest', ['InvalidResult'], true, {
          results: [result('IMAGE_URL', 'registry.example/app'), result('IMAGE_DIGEST', 'not-a-digest')],
        }),
        make('invalid digests', ['InvalidResult'], true, {
          results: [
            result(
              'IMAGES',
              'registry.example/a@sha256:xyz, registry.example/b@md5:d41d8cd98f00b204e9800998ecf8427e, registry.example/c@sha256:' +
                'a'.repeat(63),
            ),
          ],
        }),
        make('malformed object result', ['InvalidResult', 'NoArtifacts'], true, {
          results: [{ name: 'x_ARTIFACT_OUTPUTS', type: 'object', value: { uri: '', digest: 'sha256:' } } as never],
        }),
        // ~1 MB of results (etcd's object limit is 1.5 MB): a 700 kB IMAGES entry and a 300 kB IMAGE_URL
        make('oversized result', ['InvalidResult', 'NoArtifacts'], true, {
          results: [
            result('IMAGES', `registry.example/${'x'.repeat(700_000)}@sha256:${'f'.repeat(64)}`),
            result('IMAGE_URL', 'y'.repeat(300_000)),
            result('IMAGE_DIGEST', 'sha256:' + 'e'.repeat(64)),
          ],
        }),
        // references that would leave /v2/<name>/ (issue 15): refused before any request is made
        make('path-escaping references', ['InvalidResult'], true, {
          results: [
            result('IMAGE_URL', `${garbage.host}/garbage/../../escape/admin`),
            result('IMAGE_DIGEST', 'sha256:' + 'c'.repeat(64)),
            result(
              'IMAGES',
              `${garbage.host}/a/./b@sha256:${'d'.repeat(64)}, ${garbage.host}/x%2f..%2fy@sha256:${'d'.repeat(64)}`,
            ),
          ],
        }),
        // lone surrogates are not valid UTF-8; the apiserver stores U+FFFD in their place
        make('non-UTF-8', ['InvalidResult', 'NoArtifacts'], true, {
          results: [
            result('IMAGE_URL', 'registry.example/\ud800\udfff\ud800app\u0000'),
            result('IMAGE_DIGEST', 'sha256:\ud800' + 'a'.repeat(63)),
          ],
        }),
        make('garbage registry', ['StorageFailed', 'SigningFailed', 'MarkedFailed'], false, {
          results: [
            result('IMAGE_URL', `${garbage.host}/garbage/app`),
            result('IMAGE_DIGEST', 'sha256:' + 'b'.repeat(64)),
          ],
        }),
        (async () => {
          // a run *created* with a forged mark: it must be signed anyway (docs/reliability.md, forged marks)
          const tr = await createTaskRun(ns, { metadata: { annotations: { 'chains.tekton.dev/signed': 'true' } } });
          await completeTaskRun(ns, tr.metadata.name!, {
            results: [result('IMAGE_URL', forgedImage.repository), result('IMAGE_DIGEST', forgedImage.digest)],
          });
          bad['forged signed mark'] = { name: tr.metadata.name!, reasons: ['Signed'], expectSigned: true };
        })(),
        (async () => {
          // done (Succeeded=True; podName is required by the CRD schema) but no startTime, completionTime, steps, taskSpec, provenance or results
          const tr = await createTaskRun(ns);
          await patchRunStatus(ns, 'taskruns', tr.metadata.name!, {
            podName: 'pod',
            conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
          });
          bad['missing status fields'] = {
            name: tr.metadata.name!,
            reasons: ['NoArtifacts', 'Signed'],
            expectSigned: true,
          };
        })(),
      ]);
      const good = await goodNames;

      const seen: Record<string, string> = {};
      for (const [key, b] of Object.entries(bad)) {
        const ev = await waitEvent(ns, b.name, b.reasons, 90_000);
        seen[key] = `${ev.reason}: ${(ev.message ?? '').slice(0, 160)}`;
      }
      // the garbage registry answers 200 with garbage: a permanent StorageFailed, so after the retries the run is
      // marked failed (never "true": its image signature is not stored) with the reason in last-failure
      const g = await waitFor(
        async () => {
          const r = await getTaskRun(ns, bad['garbage registry']!.name);
          return r.metadata.annotations?.['chains.tekton.dev/signed'] === 'failed' ? r : undefined;
        },
        { timeoutMs: 90_000, description: 'the garbage-registry run marked failed' },
      );
      // a registry answer that is not a manifest is a RegistryError, as the other registry failures carry their own reason
      assert.match(g.metadata.annotations!['chainsmith.dev/last-failure']!, /^RegistryError: .*not valid JSON/);
      await waitFor(
        async () => {
          const runs = await Promise.all(
            [
              ...good,
              ...Object.values(bad)
                .filter((b) => b.expectSigned)
                .map((b) => b.name),
            ].map((n) => getTaskRun(ns, n)),
          );
          return runs.every((r) => r.metadata.annotations?.['chains.tekton.dev/signed'] === 'true');
        },
        { timeoutMs: 90_000, description: 'every good run (and every bad one whose provenance can be signed) signed' },
      );
      const forged = await getTaskRun(ns, bad['forged signed mark']!.name);
      const t = await tally(ns);
      console.log(JSON.stringify(seen, null, 1));
      await recordResult({
        scenario: 'bad-input',
        mode: FULL ? 'full' : 'ci',
        runs: t.total,
        lost: 0,
        duplicated: 0,
        falselyMarked: t.unbacked,
        failed: t.failed,
        recoverySeconds: [],
        notes: `${GOOD} good runs + ${Object.keys(bad).length} bad ones; Events: ${Object.entries(seen)
          .map(([k, v]) => `${k} → ${v.split(':')[0]}`)
          .join('; ')}; failed = the garbage-registry run (expected: permanent StorageFailed)`,
      });
      assert.ok(alive(controller), 'the controller is still running');
      assert.equal(
        controller.lines.filter(
          (l) => l.includes('unexpected error while reconciling') || l.includes('informer handler failed'),
        ).length,
        0,
        'no unexpected errors',
      );
      assert.ok(forged.metadata.annotations!['chainsmith.dev/signed-at'], 'the forged-mark run was really signed');
      assert.ok(
        forged.metadata.annotations![`chains.tekton.dev/signature-taskrun-${forged.metadata.uid}`],
        'with its stored signature',
      );
      assert.equal(t.failed, 1, 'only the garbage-registry run ends failed');
      // the garbage registry was asked only about its own repository, never about the path-escaping references
      assert.ok(garbage.paths.length > 0, 'the garbage registry was contacted for the garbage-registry run');
      const outside = garbage.paths.filter((p) => !p.startsWith('/v2/garbage/app/') && p !== '/v2/');
      assert.deepEqual(outside, [], 'no request left /v2/garbage/app/');
    },
  );
});

describe('invalid chains-config values', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario('badconfig', {
      'artifacts.oci.storage': 'tekton',
      'builder.id': 'https://chainsmith.dev/faults/good',
    });
  });
  after(() => s?.teardown());

  test(
    'are rejected with an InvalidConfig Event naming the key; the previous configuration keeps signing',
    { timeout: 120_000 },
    async () => {
      const controller = await s.start();
      await controller.waitForLog(/chains-config applied/, 30_000);
      for (const [key, value] of [
        ['artifacts.taskrun.format', 'slsa/v9'],
        ['artifacts.oci.storage', 'tekton,floppy'],
        ['chainsmith.retry-horizon', 'soon'],
      ] as const) {
        await writeConfig(s.systemNs, { 'artifacts.oci.storage': 'tekton', [key]: value });
        const line = await controller.waitForLog((l) => l.includes('invalid chains-config') && l.includes(key), 20_000);
        assert.match(line, new RegExp(value.replace(/[./]/g, '\\$&')), `the log names the bad value of ${key}`);
      }
      const ev = await waitFor(
        async () => {
          // an empty list is truthy: wait until at least one Event has arrived (Events are sent behind run writes)
          const found = (await eventsOf(s.systemNs, { name: 'chains-config' })).filter(
            (e) => e.reason === 'InvalidConfig',
          );
          return found.length > 0 ? found : undefined;
        },
        { timeoutMs: 20_000, description: 'InvalidConfig Events' },
      );
      assert.ok(ev.length >= 1);
      assert.match(
        ev.map((e) => e.message).join('\n'),
        /artifacts\.taskrun\.format|artifacts\.oci\.storage|chainsmith\.retry-horizon/,
      );
      const name = await buildRun(s.ns, { repository: 'registry.example/app', digest: 'sha256:' + 'c'.repeat(64) });
      const tr = await waitFor(
        async () => {
          const r = await getTaskRun(s.ns, name);
          return r.metadata.annotations?.['chains.tekton.dev/signed'] === 'true' ? r : undefined;
        },
        { timeoutMs: 30_000, description: 'signed with the kept configuration' },
      );
      const statement = JSON.parse(
        Buffer.from(
          tr.metadata.annotations![`chains.tekton.dev/payload-taskrun-${tr.metadata.uid}`]!,
          'base64',
        ).toString(),
      );
      assert.equal(
        statement.predicate.builder.id,
        'https://chainsmith.dev/faults/good',
        'the last valid configuration is still in force',
      );
      assert.ok(alive(controller));
    },
  );
});

describe('a corrupt key and a wrong password', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario('badkey', { 'artifacts.oci.storage': 'tekton', 'chainsmith.max-retries': '1' });
  });
  after(() => s?.teardown());

  test(
    'fail the runs with KeyDecryptFailed/KeyUnsupported Events, never crash, and sign once the key is fixed',
    { timeout: 150_000 },
    async () => {
      const goodKey = s.keys.encryptedKey;
      await writeFile(
        join(s.keys.dir, 'cosign.key'),
        '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGEga2V5\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n',
      );
      const controller = await s.start();
      await controller.waitForLog(/informers synced/, 30_000);
      const image = { repository: 'registry.example/app', digest: 'sha256:' + 'd'.repeat(64) };
      const corrupt = await buildRun(s.ns, image);
      const ev1 = await waitEvent(s.ns, corrupt, ['SigningFailed'], 60_000);
      assert.match(ev1.message ?? '', /Key(DecryptFailed|Unsupported|NotFound)/, ev1.message);

      await writeFile(join(s.keys.dir, 'cosign.key'), goodKey);
      await writeFile(join(s.keys.dir, 'cosign.password'), WRONG_PASSWORD);
      await controller.waitForLog(/signing secrets changed/, 20_000);
      const wrong = await buildRun(s.ns, image);
      const ev2 = await waitFor(
        async () => (await eventsOf(s.ns, { name: wrong })).find((e) => /KeyDecryptFailed/.test(e.message ?? '')),
        { timeoutMs: 60_000, description: 'KeyDecryptFailed Event' },
      );
      assert.equal(ev2.reason, 'SigningFailed');
      const failed = await waitFor(
        async () => {
          const r = await getTaskRun(s.ns, wrong);
          return r.metadata.annotations?.['chains.tekton.dev/signed'] === 'failed' ? r : undefined;
        },
        { timeoutMs: 60_000, description: 'the wrong-password run marked failed' },
      );
      assert.match(failed.metadata.annotations!['chainsmith.dev/last-failure']!, /^KeyDecryptFailed/);

      // fixing the Secret re-arms both and signs them
      await writeFile(join(s.keys.dir, 'cosign.password'), FAULTS_PASSWORD);
      for (const n of [corrupt, wrong]) {
        await waitFor(
          async () => (await getTaskRun(s.ns, n)).metadata.annotations?.['chains.tekton.dev/signed'] === 'true',
          { timeoutMs: 60_000, description: `${n} signed after the fix` },
        );
      }
      assert.ok(alive(controller));
    },
  );
});
