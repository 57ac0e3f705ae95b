// The controller reuses its TLS connections to the API server (client-node alone opens one per request)
// and still sends the kubeconfig's credentials on every request.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { KeepAliveAuthentication, makeKeepAliveApiClient } from '../../src/controller/keep-alive.js';

function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
}

test('API calls share one TLS connection and each carries the bearer token', async () => {
  const { key, cert } = selfSignedCert();
  const authHeaders: Array<string | undefined> = [];
  let connections = 0;
  const server = createServer({ key, cert }, (req, res) => {
    authHeaders.push(req.headers.authorization);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'x' } }));
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caData: Buffer.from(cert).toString('base64') }],
    users: [{ name: 'u', token: 'sekret-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  const auth = new KeepAliveAuthentication(kc);
  const api = makeKeepAliveApiClient(kc, auth, CustomObjectsApi);
  try {
    for (let i = 0; i < 5; i++) {
      const obj = (await api.getNamespacedCustomObject({ group: 'tekton.dev', version: 'v1', namespace: 'ns', plural: 'taskruns', name: 'x' })) as { metadata: { name: string } };
      assert.equal(obj.metadata.name, 'x');
    }
    assert.equal(connections, 1, 'five sequential requests should reuse one TLS connection');
    assert.deepEqual(authHeaders, Array(5).fill('Bearer sekret-token'));
  } finally {
    auth.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
