// The ECR and Google keychains (src/oci/cloud/) through their real SDKs against the loopback stand-ins of the
// cloud token endpoints (test/oci/cloud-standins/: no cloud can be reached here): which hosts they answer for, the
// credential and its expiry, "no identity here" as no credential, and a refusal by the cloud as an error naming the
// source. The ACR keychain needs a TLS stand-in that only a child process can trust: e2e/cloud-keychains.e2e.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainsmithError } from '../../src/errors.js';
import {
  EcrKeychain,
  GoogleKeychain,
  ecrRegion,
  isAzureRegistry,
  isGoogleRegistry,
} from '../../src/oci/cloud/index.js';
import { startEcrStandIn, type EcrStandIn } from './cloud-standins/ecr.js';
import { startGceMetadataStandIn, type GceMetadataStandIn } from './cloud-standins/gce-metadata.js';

test('host patterns: ECR (region from the host, partitions, FIPS), Google, ACR; ports do not matter', () => {
  assert.equal(ecrRegion('123456789012.dkr.ecr.eu-west-3.amazonaws.com'), 'eu-west-3');
  assert.equal(ecrRegion('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com'), 'us-gov-west-1');
  assert.equal(ecrRegion('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn:443'), 'cn-north-1');
  assert.equal(ecrRegion('public.ecr.aws'), undefined);
  assert.equal(ecrRegion('12345.dkr.ecr.us-east-1.amazonaws.com'), undefined, 'an account id has 12 digits');
  assert.equal(ecrRegion('123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.test'), undefined);
  for (const g of ['gcr.io', 'eu.gcr.io', 'europe-west1-docker.pkg.dev', 'us-docker.pkg.dev:5000'])
    assert.ok(isGoogleRegistry(g), g);
  for (const g of ['notgcr.io', 'gcr.io.evil.test', 'ghcr.io']) assert.ok(!isGoogleRegistry(g), g);
  for (const a of ['myreg.azurecr.io', 'myreg.azurecr.cn', 'myreg.azurecr.us:443']) assert.ok(isAzureRegistry(a), a);
  for (const a of ['azurecr.io', 'myreg.azurecr.io.evil.test']) assert.ok(!isAzureRegistry(a), a);
});

describe('ECR keychain (@aws-sdk/client-ecr against the ECR stand-in)', () => {
  let ecr: EcrStandIn;
  const registry = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
  before(async () => {
    ecr = await startEcrStandIn({ expiresInSeconds: 3600 });
  });
  after(async () => {
    await ecr?.close();
  });
  const keychain = () =>
    new EcrKeychain({
      endpoint: ecr.url,
      credentials: { accessKeyId: ecr.env.AWS_ACCESS_KEY_ID, secretAccessKey: ecr.env.AWS_SECRET_ACCESS_KEY },
    });

  test('GetAuthorizationToken gives user AWS, the password and its expiry; other hosts are not asked', async () => {
    const k = keychain();
    const started = Date.now();
    const got = await k.resolve(registry);
    assert.deepEqual(got?.credential, { kind: 'basic', username: 'AWS', password: ecr.password });
    assert.match(got?.source ?? '', /^ECR keychain .* in us-east-1$/);
    assert.ok(got?.expiresAt && Math.abs(got.expiresAt - (started + 3600_000)) < 60_000, String(got?.expiresAt));
    const calls = ecr.tokenCalls();
    assert.equal(await k.resolve('ghcr.io'), undefined);
    assert.equal(ecr.tokenCalls(), calls);
  });

  test('the cloud refusing the identity is an error naming the source, not retried as transient', async () => {
    ecr.setFailure({ type: 'AccessDeniedException', status: 400 });
    try {
      await assert.rejects(keychain().resolve(registry), (e: unknown) => {
        assert.ok(e instanceof ChainsmithError);
        assert.equal(e.transient, false);
        assert.match(e.message, new RegExp(`^registry ${registry}: ECR keychain .*: AccessDeniedException`));
        return true;
      });
    } finally {
      ecr.setFailure(undefined);
    }
  });

  test('no AWS identity where the controller runs (the SDK’s default chain finds none): no credential', async () => {
    const vars = {
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const cleared = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];
    const others = ['AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];
    const saved = Object.fromEntries([...Object.keys(vars), ...cleared, ...others].map((k) => [k, process.env[k]]));
    for (const k of [...cleared, ...others]) delete process.env[k];
    Object.assign(process.env, vars);
    try {
      const calls = ecr.tokenCalls();
      assert.equal(await new EcrKeychain({ endpoint: ecr.url }).resolve(registry), undefined);
      assert.equal(ecr.tokenCalls(), calls, 'the cloud is not asked without an identity');
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });
});

describe('Google keychain (google-auth-library ADC against the metadata stand-in)', () => {
  let gce: GceMetadataStandIn;
  const saved: Record<string, string | undefined> = {};
  before(async () => {
    gce = await startGceMetadataStandIn({ expiresInSeconds: 1800 });
    for (const k of [...Object.keys(gce.env), ...gce.unsetEnv]) saved[k] = process.env[k];
    for (const k of gce.unsetEnv) delete process.env[k];
    Object.assign(process.env, gce.env);
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    await gce?.close();
  });

  test('an access token from the metadata server, as user oauth2accesstoken, with its expiry', async () => {
    const started = Date.now();
    const got = await new GoogleKeychain().resolve('europe-west1-docker.pkg.dev');
    assert.deepEqual(got?.credential, { kind: 'basic', username: 'oauth2accesstoken', password: gce.token });
    assert.equal(got?.source, 'Google keychain (application default credentials)');
    assert.ok(got?.expiresAt && Math.abs(got.expiresAt - (started + 1800_000)) < 60_000, String(got?.expiresAt));
  });

  test('a metadata server failing the token request is an error naming the source', async () => {
    gce.setTokenFailure(500);
    try {
      await assert.rejects(
        new GoogleKeychain().resolve('gcr.io'),
        (e: unknown) =>
          e instanceof ChainsmithError && /^registry gcr\.io: Google keychain \(application default/.test(e.message),
      );
    } finally {
      gce.setTokenFailure(undefined);
    }
  });
});
