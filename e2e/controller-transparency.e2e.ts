// The controller with `transparency.enabled` against the stack's real Rekor v1 (e2e/stack/addons/rekor-up.sh): a
// TaskRun that built an image is marked signed only once its signatures are in the log, carries Chains'
// `chains.tekton.dev/transparency` annotation, and cosign verifies the image signature and the attestation WITH the
// transparency log (no `--insecure-ignore-tlog`, Rekor's key from SIGSTORE_REKOR_PUBLIC_KEY). `manual` uploads only
// the annotated run, and an unreachable Rekor never yields signed=true.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encryptCosignKey, exportPublicKeyPem } from '../src/signing/cosign-key.js';
import type { Run } from '../src/tekton/types.js';
import {
  completeTaskRun,
  createNamespace,
  createTaskRun,
  eventsOf,
  getTaskRun,
  stackEnv,
  waitFor,
  type ControllerProcess,
} from './lib/index.js';
import {
  fetchBlob,
  fetchManifest,
  layersOf,
  MEDIA,
  pushRandomImage,
  putManifest,
  uploadBlob,
  type Descriptor,
} from './lib/registry.js';
import { closedPort, cosign, runTool } from './lib/cosign.js';
import { rekorEnv, verifiersEnv } from './lib/env.js';
import { startSigningController, writeChainsConfig } from './lib/scenario.js';

const PASSWORD = 'e2e-transparency-password';
const TRANSPARENCY = 'chains.tekton.dev/transparency';

interface Setup {
  ns: string;
  dir: string;
  controller: ControllerProcess;
}

/** A namespace pair, a cosign key in signing-secrets, chain-config with oci storage and `transparency`. */
async function setup(
  prefix: string,
  transparency: Record<string, string>,
  env: Record<string, string> = {},
  extraArgs: string[] = [],
): Promise<Setup> {
  const ns = await createNamespace(prefix);
  const systemNs = await createNamespace(`${prefix}-sys`);
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-tlog-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, 'cosign.key'), await encryptCosignKey(privateKey, PASSWORD));
  await writeFile(join(dir, 'cosign.password'), PASSWORD);
  await writeFile(join(dir, 'cosign.pub'), exportPublicKeyPem(privateKey));
  await writeChainsConfig(systemNs, {
    'artifacts.taskrun.format': 'in-toto',
    'artifacts.taskrun.storage': 'tekton,oci',
    'artifacts.oci.storage': 'oci',
    ...transparency,
  });
  const controller = await startSigningController(ns, systemNs, dir, { env, extraArgs });
  return { ns, dir, controller };
}

async function teardown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await s.controller.stop();
  await rm(s.dir, { recursive: true, force: true });
}

/** Completes a TaskRun that built `image` (with `annotations`) and returns its name. */
async function imageTaskRun(
  ns: string,
  image: { repository: string; digest: string },
  annotations: Record<string, string> = {},
): Promise<string> {
  const tr = await createTaskRun(ns, { metadata: { annotations } });
  await completeTaskRun(ns, tr.metadata.name!, {
    results: [
      { name: 'IMAGE_URL', type: 'string', value: image.repository },
      { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
    ],
  });
  return tr.metadata.name!;
}

async function waitSigned(s: Setup, name: string): Promise<Run> {
  return waitFor(
    async () => {
      const r = await getTaskRun(s.ns, name);
      const signed = r.metadata.annotations?.['chains.tekton.dev/signed'];
      if (signed === 'failed') throw new Error(`run marked failed:\n${s.controller.logs().slice(-3000)}`);
      return signed === 'true' ? r : undefined;
    },
    { timeoutMs: 90_000, description: 'chains.tekton.dev/signed=true' },
  );
}

/** cosign with the stack's Rekor key, as a user of a private Rekor runs it. */
function cosignWithTlog(args: string[]) {
  const rekor = rekorEnv();
  return cosign([...args, '--rekor-url', rekor.url, '--allow-http-registry'], {
    SIGSTORE_REKOR_PUBLIC_KEY: rekor.publicKey,
    COSIGN_EXPERIMENTAL: '0',
  });
}

describe('controller with transparency.enabled: "true" and the stack’s Rekor', () => {
  let s: Setup;
  before(async () => {
    // with Rekor's key, as an operator of a private Rekor sets it: every entry's SET is checked before storing
    s = await setup(
      'tlog',
      { 'transparency.enabled': 'true', 'transparency.url': rekorEnv().url },
      { SIGSTORE_REKOR_PUBLIC_KEY: rekorEnv().publicKey },
    );
  });
  after(() => teardown(s));

  test('a TaskRun with an image is marked signed with its log entry, and cosign verifies both signatures with the tlog', async () => {
    const rekor = rekorEnv();
    const image = await pushRandomImage(`${stackEnv().registry}/tlog-e2e/app`);
    const tr = await waitSigned(s, await imageTaskRun(s.ns, image));
    const url = tr.metadata.annotations?.[TRANSPARENCY];
    assert.ok(url, 'the run has chains.tekton.dev/transparency');
    const m = new RegExp(`^${rekor.url.replace(/[.]/g, '\\.')}/api/v1/log/entries\\?logIndex=(\\d+)$`).exec(url);
    assert.ok(m, url);
    // the annotation resolves to an entry in the log: the last upload, the image signature (as in Chains)
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const entry = Object.values((await res.json()) as Record<string, { body: string; logIndex: number }>)[0]!;
    assert.equal(entry.logIndex, Number(m[1]));
    assert.equal(JSON.parse(Buffer.from(entry.body, 'base64').toString()).kind, 'hashedrekord');

    // rekor-cli, as an auditor would look it up from the annotation
    const home = await mkdtemp(join(tmpdir(), 'rekor-cli-home-'));
    try {
      const got = await runTool(
        rekor.cli,
        ['get', '--log-index', m[1]!, '--format', 'json', '--rekor_server', rekor.url],
        { HOME: home },
      );
      assert.equal(got.code, 0, got.out);
      const printed = JSON.parse(got.out.slice(got.out.indexOf('{'), got.out.lastIndexOf('}') + 1)) as {
        LogIndex: number;
        Body: { HashedRekordObj?: { data: { hash: { value: string } } } };
      };
      assert.equal(printed.LogIndex, Number(m[1]));
      const simpleSigning = JSON.stringify({
        critical: {
          identity: { 'docker-reference': image.repository },
          image: { 'docker-manifest-digest': image.digest },
          type: 'cosign container image signature',
        },
        optional: null,
      });
      assert.equal(
        printed.Body.HashedRekordObj?.data.hash.value,
        createHash('sha256').update(simpleSigning).digest('hex'),
        'the entry records the image signature payload',
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }

    const pub = join(s.dir, 'cosign.pub');
    const sig = await cosignWithTlog(['verify', '--key', pub, image.ref]);
    assert.equal(sig.code, 0, `cosign verify with the tlog:\n${sig.out}`);
    assert.match(sig.out, /Existence of the claims in the transparency log was verified/);
    const att = await cosignWithTlog([
      'verify-attestation',
      '--key',
      pub,
      '--type',
      'slsaprovenance',
      '--policy',
      'docs/policies/builder.cue',
      image.ref,
    ]);
    assert.equal(att.code, 0, `cosign verify-attestation with the tlog:\n${att.out}`);
    assert.match(att.out, /Existence of the claims in the transparency log was verified/);
  });
  test('a re-serialised .att envelope (same statement, same valid DSSE signature) fails: its tlog entry does not match', async () => {
    const image = await pushRandomImage(`${stackEnv().registry}/tlog-e2e/tamper`);
    await waitSigned(s, await imageTaskRun(s.ns, image));
    await reserialiseAttestation(image);
    const pub = join(s.dir, 'cosign.pub');
    const args = ['verify-attestation', '--key', pub, '--type', 'slsaprovenance'];
    const tampered = await cosignWithTlog([...args, image.ref]);
    assert.notEqual(tampered.code, 0, `the tampered layer must fail with the tlog:\n${tampered.out}`);
    // the DSSE signature alone still verifies: it is the tlog entry that catches the change
    const ignored = await cosignWithTlog([...args, '--insecure-ignore-tlog', image.ref]);
    assert.equal(ignored.code, 0, ignored.out);
  });

  test('chainsmith verify --rekor-public-key passes on the signed image and fails once its .att is re-serialised', async () => {
    const image = await pushRandomImage(`${stackEnv().registry}/tlog-e2e/verify`);
    await waitSigned(s, await imageTaskRun(s.ns, image));
    const args = ['--key', join(s.dir, 'cosign.pub'), '--require-attestation', image.ref];
    const withTlog = ['--rekor-public-key', rekorEnv().publicKey, ...args];
    const good = await chainsmithVerify(withTlog);
    assert.equal(good.code, 0, `chainsmith verify with the tlog:\n${good.out}`);
    assert.match(good.out, /tlog/);
    await reserialiseAttestation(image);
    const tampered = await chainsmithVerify(withTlog);
    assert.equal(tampered.code, 1, `the tampered layer must fail with the tlog:\n${tampered.out}`);
    assert.match(tampered.out, /records other bytes than those stored: another envelope hash/);
    // the DSSE signature alone still verifies: it is the tlog check that catches the change
    const ignored = await chainsmithVerify([
      '--insecure-ignore-tlog',
      '--rekor-public-key',
      rekorEnv().publicKey,
      ...args,
    ]);
    assert.equal(ignored.code, 0, ignored.out);
  });
});

/** `chainsmith verify` from the sources, as a user runs it. */
function chainsmithVerify(args: string[]) {
  return runTool(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'verify', ...args]);
}

/** Replaces the first `.att` layer with the same envelope re-serialised (other member order, same signature). */
async function reserialiseAttestation(image: { repository: string; digest: string }): Promise<void> {
  const tag = `sha256-${image.digest.slice('sha256:'.length)}.att`;
  const m = (await fetchManifest(image.repository, tag))!;
  const layers = m.json.layers as Descriptor[];
  const envelope = JSON.parse((await fetchBlob(image.repository, layers[0]!.digest)).toString()) as {
    payloadType: string;
    payload: string;
    signatures: unknown[];
  };
  const reordered = Buffer.from(
    JSON.stringify({ payload: envelope.payload, payloadType: envelope.payloadType, signatures: envelope.signatures }),
  );
  const digest = await uploadBlob(image.repository, reordered);
  const manifest = { ...m.json, layers: [{ ...layers[0]!, digest, size: reordered.length }] };
  await putManifest(image.repository, tag, MEDIA.ociManifest, Buffer.from(JSON.stringify(manifest)));
}

describe('controller with chainsmith.transparency.attestation-entry: intoto (Chains ≤ v0.28 entries)', () => {
  let s: Setup;
  before(async () => {
    s = await setup('tlog-intoto', {
      'transparency.enabled': 'true',
      'transparency.url': rekorEnv().url,
      'chainsmith.transparency.attestation-entry': 'intoto',
    });
  });
  after(() => teardown(s));

  test('the attestation is an intoto 0.0.1 entry and cosign verify-attestation accepts it with the tlog', async () => {
    const image = await pushRandomImage(`${stackEnv().registry}/tlog-e2e/intoto`);
    await waitSigned(s, await imageTaskRun(s.ns, image));
    const pub = join(s.dir, 'cosign.pub');
    const att = await cosignWithTlog(['verify-attestation', '--key', pub, '--type', 'slsaprovenance', image.ref]);
    assert.equal(att.code, 0, `cosign verify-attestation with the tlog:\n${att.out}`);
    // the .att layer's cosign bundle records an intoto entry over exactly the stored envelope
    const [layer] = await layersOf(image.repository, `sha256-${image.digest.slice('sha256:'.length)}.att`);
    const bundle = JSON.parse(layer!.annotations!['dev.sigstore.cosign/bundle']!) as { Payload: { body: string } };
    const body = JSON.parse(Buffer.from(bundle.Payload.body, 'base64').toString()) as {
      kind: string;
      apiVersion: string;
      spec: { content: { hash: { value: string } } };
    };
    assert.equal(`${body.kind} ${body.apiVersion}`, 'intoto 0.0.1');
    assert.equal(`sha256:${body.spec.content.hash.value}`, layer!.digest);
  });
});

describe('controller with transparency.enabled: manual', () => {
  let s: Setup;
  before(async () => {
    s = await setup('tlog-manual', { 'transparency.enabled': 'manual', 'transparency.url': rekorEnv().url });
  });
  after(() => teardown(s));

  test('only the run annotated transparency-upload: "true" is uploaded', async () => {
    const repo = `${stackEnv().registry}/tlog-e2e/manual`;
    const plain = await waitSigned(s, await imageTaskRun(s.ns, await pushRandomImage(repo)));
    assert.equal(plain.metadata.annotations?.[TRANSPARENCY], undefined);
    const optIn = { 'chains.tekton.dev/transparency-upload': 'true' };
    const opted = await waitSigned(s, await imageTaskRun(s.ns, await pushRandomImage(repo), optIn));
    assert.match(opted.metadata.annotations?.[TRANSPARENCY] ?? '', /\/api\/v1\/log\/entries\?logIndex=\d+$/);
  });
});

describe('controller with an unreachable transparency.url', () => {
  let s: Setup;
  before(async () => {
    const port = await closedPort();
    s = await setup('tlog-down', { 'transparency.enabled': 'true', 'transparency.url': `http://127.0.0.1:${port}` });
  });
  after(() => teardown(s));

  test('the run is never marked signed, and a TransparencyFailed Event says why', async () => {
    const image = await pushRandomImage(`${stackEnv().registry}/tlog-e2e/down`);
    const name = await imageTaskRun(s.ns, image);
    const event = await waitFor(
      async () => (await eventsOf(s.ns, { name })).find((e) => e.reason === 'TransparencyFailed'),
      { timeoutMs: 60_000, description: 'a TransparencyFailed Event' },
    );
    assert.match(event.message ?? '', /rekor http:\/\/127\.0\.0\.1:\d+: POST failed/);
    const tr = await getTaskRun(s.ns, name);
    assert.notEqual(tr.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
  });
});

describe('controller with a transparency.url that is not a Rekor (the stack registry)', () => {
  let s: Setup;
  before(async () => {
    s = await setup('tlog-notrekor', {
      'transparency.enabled': 'true',
      'transparency.url': `http://${stackEnv().registry}`,
    });
  });
  after(() => teardown(s));

  test('the registry’s 404 is named in a TransparencyFailed Event and the run is not signed', async () => {
    const image = await pushRandomImage(`${stackEnv().registry}/tlog-e2e/notrekor`);
    const name = await imageTaskRun(s.ns, image);
    const event = await waitFor(
      async () => (await eventsOf(s.ns, { name })).find((e) => e.reason === 'TransparencyFailed'),
      { timeoutMs: 60_000, description: 'a TransparencyFailed Event' },
    );
    assert.match(event.message ?? '', /rekor http:\/\/127\.0\.0\.1:\d+: creating the entry: HTTP 404/);
    const tr = await getTaskRun(s.ns, name);
    assert.notEqual(tr.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
  });
});

describe('controller against a misbehaving log (a loopback server: no real Rekor answers garbage on purpose)', () => {
  let s: Setup;
  let server: Server;
  let mode: 'garbage' | 'huge' = 'garbage';
  let hugeBytesSent = 0;
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (mode === 'garbage') {
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"not": "an entry"');
        return;
      }
      // an endless 201 answer: the client must stop reading at its cap and hang up
      res.writeHead(201, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1 << 16, 0x61);
      const pump = () => {
        while (!res.destroyed && hugeBytesSent < 1 << 30) {
          hugeBytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    s = await setup('tlog-garbage', { 'transparency.enabled': 'true', 'transparency.url': `http://127.0.0.1:${port}` });
  });
  after(async () => {
    await teardown(s);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  async function failureOf(name: string, pattern: RegExp): Promise<string> {
    const event = await waitFor(
      async () =>
        (await eventsOf(s.ns, { name })).find(
          (e) => e.reason === 'TransparencyFailed' && pattern.test(e.message ?? ''),
        ),
      { timeoutMs: 60_000, description: `a TransparencyFailed Event matching ${pattern}` },
    );
    return event.message ?? '';
  }

  test('an answer that is not a log entry: clear Event, not signed', async () => {
    mode = 'garbage';
    const name = await imageTaskRun(s.ns, await pushRandomImage(`${stackEnv().registry}/tlog-e2e/garbage`));
    const message = await failureOf(name, /not a Rekor log entry/);
    assert.match(message, /TaskRun attestation: rekor http:\/\/127\.0\.0\.1:\d+: not a Rekor log entry: not JSON/);
    const tr = await getTaskRun(s.ns, name);
    assert.notEqual(tr.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
  });

  test('an endless answer: read up to the cap only, clear Event, bounded memory, the controller keeps running', async () => {
    mode = 'huge';
    const name = await imageTaskRun(s.ns, await pushRandomImage(`${stackEnv().registry}/tlog-e2e/huge`));
    const message = await failureOf(name, /larger than/);
    assert.match(message, /rekor http:\/\/127\.0\.0\.1:\d+: the answer is larger than 1048576 bytes/);
    // the client hung up early: far less than the 1 GiB the server was ready to send
    assert.ok(hugeBytesSent < 256 << 20, `the server sent ${hugeBytesSent} bytes before the client hung up`);
    const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${s.controller.pid}/status`, 'utf8'))?.[1]);
    assert.ok(peakKb < 400 * 1024, `controller peak RSS ${peakKb} kB`);
    const tr = await getTaskRun(s.ns, name);
    assert.notEqual(tr.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
    assert.equal(await Promise.race([s.controller.exited.then(() => 'exited'), Promise.resolve('running')]), 'running');
  });
});

describe('controller with SIGSTORE_REKOR_PUBLIC_KEY naming another log’s key', () => {
  let s: Setup;
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chainsmith-otherlog-'));
    const other = join(dir, 'other-rekor.pub');
    await writeFile(other, exportPublicKeyPem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey));
    s = await setup(
      'tlog-otherkey',
      { 'transparency.enabled': 'true', 'transparency.url': rekorEnv().url },
      { SIGSTORE_REKOR_PUBLIC_KEY: other },
    );
  });
  after(() => teardown(s));

  test('the entry from the real log is refused (it is not that log’s), the run is not signed', async () => {
    const name = await imageTaskRun(s.ns, await pushRandomImage(`${stackEnv().registry}/tlog-e2e/otherkey`));
    const event = await waitFor(
      async () => (await eventsOf(s.ns, { name })).find((e) => e.reason === 'TransparencyFailed'),
      { timeoutMs: 60_000, description: 'a TransparencyFailed Event' },
    );
    assert.match(event.message ?? '', /the entry is from log [0-9a-f]{64}, not the log of the given Rekor key/);
    assert.match(event.message ?? '', /SIGSTORE_REKOR_PUBLIC_KEY/);
    const tr = await getTaskRun(s.ns, name);
    assert.notEqual(tr.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
  });
});

// Images in olareg (the verifiers add-on), a registry with the OCI 1.1 referrers API.
describe('controller with sigstore-bundle referrers and the stack’s Rekor', () => {
  let s: Setup;
  before(async () => {
    s = await setup('tlog-bundle', {
      'transparency.enabled': 'true',
      'transparency.url': rekorEnv().url,
      'storage.oci.encoding-format': 'sigstore-bundle',
    });
  });
  after(async () => {
    await teardown(s);
  });

  test('chainsmith verify checks each bundle’s SET, inclusion proof and signed checkpoint', async () => {
    const pushed = await pushRandomImage(`${verifiersEnv().referrersRegistry}/tlog-e2e/bundle`);
    const repository = pushed.repository;
    await waitSigned(s, await imageTaskRun(s.ns, { repository, digest: pushed.digest }));
    const out = await chainsmithVerify([
      '--rekor-public-key',
      rekorEnv().publicKey,
      '--key',
      join(s.dir, 'cosign.pub'),
      '--require-attestation',
      '--json',
      `${repository}@${pushed.digest}`,
    ]);
    assert.equal(out.code, 0, out.out);
    type Item = { checks: Array<{ name: string; status: string }> };
    const report = JSON.parse(out.out) as { verified: boolean; signatures: Item[]; attestations: Item[] };
    assert.equal(report.verified, true);
    for (const [what, items] of [
      ['signature', report.signatures],
      ['attestation', report.attestations],
    ] as const) {
      assert.equal(items.length, 1, `one ${what} referrer`);
      const status = Object.fromEntries(items[0]!.checks.map((c) => [c.name, c.status]));
      for (const check of ['tlog', 'inclusion-proof', 'checkpoint'])
        assert.equal(status[check], 'passed', `${what}: ${check}\n${out.out}`);
    }
  });
});

// A Rekor far away (a loopback proxy holding each request 1 s before the stack's real Rekor answers it): while
// transparency is on, --tlog-workers add concurrency, so a slow log does not idle the controller.
describe('controller with transparency on and a slow log: --workers plus --tlog-workers runs in flight', () => {
  let s: Setup;
  let proxy: Server;
  let inFlight = 0;
  let maxInFlight = 0;
  before(async () => {
    const upstream = new URL(rekorEnv().url);
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const post = req.method === 'POST';
        if (post) maxInFlight = Math.max(maxInFlight, ++inFlight);
        setTimeout(() => {
          const out = httpRequest(
            { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
            (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
              answer.on('end', () => post && inFlight--);
            },
          );
          out.on('error', (err) => {
            if (post) inFlight--;
            res.writeHead(502).end(String(err));
          });
          out.end(Buffer.concat(chunks));
        }, 1000);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const { port } = proxy.address() as AddressInfo;
    s = await setup(
      'tlog-slow',
      {
        'transparency.enabled': 'true',
        'transparency.url': `http://127.0.0.1:${port}`,
        'artifacts.taskrun.storage': 'tekton',
        'artifacts.oci.storage': '',
      },
      {},
      ['--workers', '2', '--tlog-workers', '6'],
    );
  });
  after(async () => {
    await teardown(s);
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
  });

  test('16 runs: 8 uploads in flight at once (2 workers + 6 tlog workers), all signed', async () => {
    const names = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const tr = await createTaskRun(s.ns);
        await completeTaskRun(s.ns, tr.metadata.name!);
        return tr.metadata.name!;
      }),
    );
    for (const name of names) await waitSigned(s, name);
    assert.equal(maxInFlight, 8, 'as many uploads in flight as workers + tlog workers, no more');
  });
});
