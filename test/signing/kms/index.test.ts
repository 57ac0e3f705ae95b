import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChainsConfig } from '../../../src/config/types.js';
import { ChainsmithError } from '../../../src/errors.js';
import { createKmsSigner } from '../../../src/signing/kms/index.js';
import { fakeKey } from './fake-keys.js';
import { startLoopbackServer, type LoopbackServer } from './loopback-server.js';

type KmsConfig = ChainsConfig['signers']['kms'];
const cfg = (kmsref: string | undefined, auth: Partial<KmsConfig['auth']> = {}): KmsConfig => ({
  ...(kmsref !== undefined ? { kmsref } : {}),
  auth: { oidc: {}, spire: {}, ...auth },
});

const key = fakeKey('ec-p256');
let vault: LoopbackServer;
before(async () => {
  vault = await startLoopbackServer((req) =>
    req.method === 'GET' && req.url === '/v1/transit/keys/chains'
      ? {
          status: 200,
          body: {
            data: {
              type: 'ecdsa-p256',
              latest_version: 1,
              keys: { '1': { public_key: key.publicKey.export({ type: 'spki', format: 'pem' }) } },
            },
          },
        }
      : { status: 404, body: { errors: [] } },
  );
});
after(() => vault.close());

describe('createKmsSigner', () => {
  it('explains a kms signer with no kmsref', async () => {
    await assert.rejects(
      createKmsSigner(cfg(undefined)),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'InvalidConfig' && /signers.kms.kmsref is not set/.test(e.message),
    );
  });

  it('rejects a malformed reference before contacting anything', async () => {
    await assert.rejects(
      createKmsSigner(cfg('hashivault:///chains')),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'InvalidConfig',
    );
  });

  it('dispatches hashivault:// and openbao:// to the Vault transit signer with the configured address and token', async () => {
    for (const scheme of ['hashivault', 'openbao']) {
      vault.requests.length = 0;
      const s = await createKmsSigner(cfg(`${scheme}://chains`, { address: vault.url, token: 's.cfg-token' }), {
        timeoutMs: 1000,
      });
      assert.equal(s.publicKey().export({ format: 'jwk' }).x, key.publicKey.export({ format: 'jwk' }).x);
      assert.equal(s.cert(), '');
      assert.equal(s.chain(), '');
      assert.equal(vault.requests[0]!.headers['x-vault-token'], 's.cfg-token');
    }
  });
});
