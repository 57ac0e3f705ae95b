// The grafeas reader against the loopback stand-in of the grafeas.v1 API (no Grafeas v1 server can run here; see
// grafeas-standin.ts): the real storer creates the occurrences through Google's client, the reader finds them by the
// run's results and src/verify/read-back.ts checks them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { OAuth2Client } from 'google-auth-library';
import { ChainsmithError } from '../../src/errors.js';
import { createGrafeasStorer, type GrafeasConnection, type GrafeasStorer } from '../../src/storage/grafeas.js';
import { GrafeasReader } from '../../src/storage/read/grafeas.js';
import { verifyRunFrom } from '../../src/verify/read-back.js';
import { SHORT, signedFixture, type SignedFixture } from './read-fixtures.js';
import { startGrafeasStandin, type GrafeasStandin } from './grafeas-standin.js';

let standin: GrafeasStandin;
let conn: GrafeasConnection;
let storer: GrafeasStorer;
let f: SignedFixture;

before(async () => {
  standin = await startGrafeasStandin();
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'ya29.test', expiry_date: Date.now() + 3_600_000 });
  conn = { apiEndpoint: standin.host, port: standin.port, sslCreds: grpc.credentials.createInsecure(), authClient };
  storer = createGrafeasStorer(conn);
  f = await signedFixture();
  f.config.storage.grafeas.projectId = 'proj';
  for (const req of [...f.requests, f.otherRequest]) await storer.store(req);
});
after(async () => {
  await storer.close();
  await standin.close();
});

describe('grafeas reader (stand-in)', () => {
  it('finds the run’s BUILD occurrence and its image’s ATTESTATION occurrence; both verify', async () => {
    const report = await verifyRunFrom(f.run, new GrafeasReader(f.config, conn), f.signer.publicKey());
    assert.equal(report.verified, true, report.firstFailure);
    assert.deepEqual(
      report.entries.map((e) => [e.shortKey, e.kind]),
      [
        [`taskrun-${f.run.metadata.uid}`, 'run-attestation'],
        [SHORT, 'image-signature'],
      ],
    );
    assert.match(report.entries[0]!.where!, /^occurrence projects\/proj\/occurrences\//);
    const other = await verifyRunFrom(f.otherRun, new GrafeasReader(f.config, conn), f.signer.publicKey());
    assert.equal(other.verified, true, other.firstFailure);
    assert.equal(other.entries.filter((e) => e.kind === 'run-attestation').length, 1, 'only its own provenance');
  });

  it('a wrong key fails; no project id is InvalidConfig; a failing server is StorageFailed', async () => {
    const wrong = await verifyRunFrom(f.run, new GrafeasReader(f.config, conn), f.wrongKey);
    assert.equal(wrong.verified, false);
    assert.match(wrong.firstFailure!, /signature/);
    const noProject = structuredClone(f.config);
    noProject.storage.grafeas.projectId = undefined;
    assert.throws(
      () => new GrafeasReader(noProject, conn),
      (e: unknown) => e instanceof ChainsmithError && /storage\.grafeas\.projectid/.test(e.message),
    );
    standin.failNext('*', grpc.status.UNAVAILABLE, 2, 'down for maintenance');
    await assert.rejects(
      new GrafeasReader(f.config, conn).read(f.run, { ownsStatement: () => true }),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'StorageFailed' && /down for maintenance/.test(e.message),
    );
  });
});
