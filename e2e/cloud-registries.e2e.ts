// Self-test of the cloud registry test infrastructure (e2e/lib/cloud-registries.ts), independent of chainsmith's
// keychains: for ECR, Google and ACR the real SDK, in a child process with `childEnv()`, gets a credential from the
// loopback stand-in, and the real docker-registry behind its real auth (htpasswd, or token auth with the ACR token
// service's JWTs) lets it push, while a wrong credential gets 401 from that registry. Also checks that
// host-aliases.mjs makes node:http, https, net, dns and fetch reach the aliased names.
//   . .stack/env && node --import tsx --test e2e/cloud-registries.e2e.ts
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startCloudRegistries, type CloudRegistries } from './lib/cloud-registries.js';
import { REPO_ROOT } from './lib/env.js';

const run = promisify(execFile);

interface Probe {
  cloud: string;
  error?: string;
  username?: string;
  secretLength?: number;
  expiresAt?: number;
  exchange?: number;
  grant?: number;
  ping?: number;
  push?: { start: number; blob?: number; config?: number; manifest?: number; get?: number; digest?: string };
}

let clouds: CloudRegistries;

/** Runs e2e/lib/cloud-token-probe.ts in a child with the controller's environment. */
async function probe(cloud: 'ecr' | 'google' | 'acr' | 'acr-get', registry: string, push = false): Promise<Probe> {
  const args = ['--import', 'tsx', 'e2e/lib/cloud-token-probe.ts', cloud, registry, 'chainsmith/probe'];
  if (push) args.push('push');
  const { stdout } = await run(process.execPath, args, {
    cwd: REPO_ROOT,
    env: clouds.childEnv(),
    timeout: 60_000,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    // the probe prints its own error as JSON; stderr is the SDKs' (no secrets: the probe never prints one)
    if (err.stdout) return { stdout: err.stdout };
    throw new Error(`probe ${cloud} failed: ${(err.stderr ?? '').split('\n').slice(0, 5).join(' | ')}`);
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Probe;
}

const fullPush = { start: 202, blob: 201, config: 201, manifest: 201, get: 200 };

/** Every step of the push succeeded, and the probe names the pushed manifest's digest. */
function assertFullPush(push: Probe['push']): void {
  const { digest, ...statuses } = push ?? { start: 0 };
  assert.deepEqual(statuses, fullPush);
  assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/);
}

describe('cloud registries behind their real auth, credentials from the SDKs via loopback stand-ins', () => {
  before(async () => {
    clouds = await startCloudRegistries();
  });
  after(async () => {
    await clouds?.stop();
  });

  it('host-aliases.mjs: dns, http, https, net and fetch of a child reach the aliased names', async () => {
    const script = `
      import dns from 'node:dns';
      import https from 'node:https';
      import net from 'node:net';
      const [ecr, acrHost] = process.argv.slice(1);
      const [host, port] = ecr.split(':');
      const r = {};
      r.lookup = await new Promise((res) => dns.lookup(host, (e, a) => res(e ? e.code : a)));
      r.lookupAll = await new Promise((res) => dns.lookup(host, { all: true }, (e, a) => res(e ? e.code : a[0].address)));
      r.promises = (await dns.promises.lookup(host)).address;
      r.https = await new Promise((res) => https.get('https://' + ecr + '/v2/', (x) => { x.resume(); res(x.statusCode); }).on('error', (e) => res(e.code)));
      r.fetch = await fetch('https://' + ecr + '/v2/').then((x) => x.status, (e) => String(e.cause?.code ?? e));
      r.net = await new Promise((res) => { const s = net.connect(Number(port), host, () => { s.destroy(); res('connected'); }); s.on('error', (e) => res(e.code)); });
      r.entra = await fetch('https://login.microsoftonline.com/common/discovery/instance?api-version=1.1').then((x) => x.status, (e) => String(e.cause?.code ?? e));
      r.other = await new Promise((res) => dns.lookup('localhost', (e, a) => res(e ? e.code : a)));
      console.log(JSON.stringify(r));`;
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', script, clouds.ecr.registry, clouds.acr.host],
      { env: clouds.childEnv(), timeout: 30_000 },
    );
    assert.deepEqual(JSON.parse(stdout), {
      lookup: '127.0.0.1',
      lookupAll: '127.0.0.1',
      promises: '127.0.0.1',
      https: 401, // TLS verified under the cloud name (CA from NODE_EXTRA_CA_CERTS), registry demands auth
      fetch: 401,
      net: 'connected',
      entra: 200, // login.microsoftonline.com:443 → the Entra stand-in's port
      other: '127.0.0.1',
    });
  });

  it('ECR: GetAuthorizationToken through @aws-sdk/client-ecr; the htpasswd registry takes AWS:<password>', async () => {
    const { standIn, registry } = clouds.ecr;
    const before = standIn.tokenCalls();
    const r = await probe('ecr', registry, true);
    assert.equal(r.error, undefined);
    assert.equal(r.username, 'AWS');
    assert.ok(r.expiresAt! > Date.now() + 3600_000, 'expiresAt from the stand-in');
    assert.equal(r.ping, 200);
    assertFullPush(r.push);
    assert.equal(standIn.tokenCalls(), before + 1);
    assert.equal(standIn.refused(), 0);
    const sigv4 = String(standIn.requests.at(-1)!.headers.authorization);
    assert.match(sigv4, /^AWS4-HMAC-SHA256 Credential=AKIACHAINSMITHTEST01\/\d{8}\/us-east-1\/ecr\/aws4_request/);
  });

  it('ECR: a password the registry does not know gets 401 from docker-registry', async () => {
    const { standIn, registry } = clouds.ecr;
    standIn.setPassword('not-the-registry-password');
    try {
      const r = await probe('ecr', registry);
      assert.equal(r.error, undefined);
      assert.equal(r.ping, 401);
    } finally {
      standIn.setPassword(clouds.ecr.acceptedPassword);
    }
    const direct = await clouds.request(`https://${registry}/v2/`, {
      headers: { authorization: `Basic ${Buffer.from(`AWS:${clouds.ecr.acceptedPassword}`).toString('base64')}` },
    });
    assert.equal(direct.status, 200);
  });

  it('ECR: a request signed with another secret key is refused (SigV4 recomputed)', async () => {
    const { standIn, registry } = clouds.ecr;
    const [calls, refused] = [standIn.tokenCalls(), standIn.refused()];
    const args = ['--import', 'tsx', 'e2e/lib/cloud-token-probe.ts', 'ecr', registry, 'chainsmith/probe'];
    const { stdout } = await run(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...clouds.childEnv(), AWS_SECRET_ACCESS_KEY: 'another-secret-access-key' },
      timeout: 60_000,
    }).catch((err: { stdout: string }) => err);
    assert.match((JSON.parse(stdout.trim()) as Probe).error ?? '', /^InvalidSignatureException/);
    assert.equal(standIn.tokenCalls(), calls);
    assert.ok(standIn.refused() > refused);
  });

  it('ECR: the SDK fails with the error the stand-in sends (AccessDeniedException)', async () => {
    const { standIn, registry } = clouds.ecr;
    standIn.setFailure({ type: 'AccessDeniedException', status: 400 });
    try {
      const r = await probe('ecr', registry);
      assert.match(r.error ?? '', /^AccessDeniedException/);
    } finally {
      standIn.setFailure(undefined);
    }
  });

  it('Google: ADC reaches the metadata stand-in; the htpasswd registry takes oauth2accesstoken:<token>', async () => {
    const { standIn, registry } = clouds.google;
    const before = standIn.tokenCalls();
    const r = await probe('google', registry, true);
    assert.equal(r.error, undefined);
    assert.equal(r.username, 'oauth2accesstoken');
    assert.equal(r.ping, 200);
    assertFullPush(r.push);
    assert.equal(standIn.tokenCalls(), before + 1);
    assert.ok(standIn.pings() >= 1, 'ADC pinged the metadata server');
    assert.equal(standIn.refused(), 0, 'every request carried Metadata-Flavor: Google');
  });

  it('Google: another access token gets 401 from docker-registry', async () => {
    const { standIn, registry } = clouds.google;
    standIn.setToken('ya29.another-token-the-registry-does-not-know');
    try {
      const r = await probe('google', registry);
      assert.equal(r.error, undefined);
      assert.equal(r.ping, 401);
    } finally {
      standIn.setToken(clouds.google.acceptedToken);
    }
  });

  it('ACR: workload identity through DefaultAzureCredential, exchange, refresh-token grant, Bearer push', async () => {
    const { entra, tokenService, registry } = clouds.acr;
    const [e0, x0, t0] = [entra.tokenCalls(), tokenService.exchangeCalls(), tokenService.tokenCalls()];
    const r = await probe('acr', registry, true);
    assert.equal(r.error, undefined);
    assert.equal(r.exchange, 200);
    assert.equal(r.grant, 200);
    assert.equal(r.ping, 200);
    assertFullPush(r.push);
    assert.equal(entra.tokenCalls(), e0 + 1);
    assert.equal(tokenService.exchangeCalls(), x0 + 1);
    assert.equal(tokenService.tokenCalls(), t0 + 1);
    assert.equal(tokenService.lastServices().token, clouds.acr.service, 'the service from the challenge');
  });

  it('ACR: the GET token grant with Basic 00000000-…:<refresh token> works too', async () => {
    const r = await probe('acr-get', clouds.acr.registry, true);
    assert.equal(r.error, undefined);
    assert.equal(r.grant, 200);
    assertFullPush(r.push);
  });

  it('ACR: the registry itself refuses expired, badly signed and forged tokens; the exchange refuses revoked ones', async () => {
    const { tokenService, entra, registry, realm, service } = clouds.acr;
    // the probe's whole path each time; the token service's switches decide what access token the registry sees
    const bearer = async (): Promise<number> => {
      const r = await probe('acr', registry);
      assert.equal(r.error, undefined);
      return r.ping!;
    };
    // each refusal is docker-registry's own, for the reason its log gives
    const refusedFor = async (why: RegExp, what: string) => {
      assert.equal(await bearer(), 401, what);
      await new Promise((r) => setTimeout(r, 200)); // the log is piped through this process
      assert.match(await readFile(clouds.acr.logFile, 'utf8'), why, what);
    };
    tokenService.setAccessTokenSeconds(-120);
    try {
      await refusedFor(/token not to be used after/, 'expired (beyond the 60 s leeway)');
    } finally {
      tokenService.setAccessTokenSeconds(75 * 60);
    }
    tokenService.setSigning('untrusted-cert');
    try {
      await refusedFor(/unable to verify certificate chain/, 'x5c certificate not in rootcertbundle');
    } finally {
      tokenService.setSigning('trusted');
    }
    tokenService.setSigning('wrong-key');
    try {
      await refusedFor(/unable to verify token signature/, 'signature by another key');
    } finally {
      tokenService.setSigning('trusted');
    }
    assert.equal(await bearer(), 200, 'and back to a good token');
    // the realm answers a garbage refresh token with 401; the registry a garbage bearer with 401
    const grant = await clouds.request(realm, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', service, scope: '', refresh_token: 'x.y.z' }).toString(),
    });
    assert.equal(grant.status, 401);
    const forged = await clouds.request(`https://${registry}/v2/`, { headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(forged.status, 401);
    assert.match(
      String(forged.headers['www-authenticate']),
      new RegExp(`^Bearer realm="${realm}",service="${service}"`),
    );
    // an Entra token the token service does not know: the exchange says 401
    entra.setIssueUnknownTokens(true);
    try {
      const r = await probe('acr', registry);
      assert.equal(r.exchange, 401);
      assert.equal(r.grant, 401);
      assert.equal(r.ping, 401);
    } finally {
      entra.setIssueUnknownTokens(false);
    }
  });

  it('the registries log no credential', async () => {
    for (const [log, secret] of [
      [clouds.ecr.logFile, clouds.ecr.acceptedPassword],
      [clouds.google.logFile, clouds.google.acceptedToken],
    ] as const) {
      const text = await readFile(log, 'utf8');
      assert.ok(text.length > 0 && !text.includes(secret), `${log} holds no password`);
    }
    assert.doesNotMatch(await readFile(clouds.acr.logFile, 'utf8'), /eyJ[\w-]{20,}\./, 'no JWT in the ACR log');
  });

  it('ACR: the GET token grant refuses a wrong refresh token', async () => {
    const { realm, service, username } = clouds.acr;
    const res = await clouds.request(`${realm}?service=${service}&scope=repository:x:pull`, {
      headers: { authorization: `Basic ${Buffer.from(`${username}:not-a-refresh-token`).toString('base64')}` },
    });
    assert.equal(res.status, 401);
  });
});
