// The controller's JSON log lines: whatever a run, a registry or an error message contains, a line never
// carries raw C1 or bidi control characters (JSON escapes only C0) and never a token, password or private key.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, redactText } from '../../src/observability/logger.js';

async function logLines(fn: (log: ReturnType<typeof createLogger>) => void): Promise<string[]> {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString('utf8');
      cb();
    },
  });
  const log = createLogger({ stream });
  fn(log);
  await new Promise<void>((r) => {
    log.on('finish', r);
    log.end();
  });
  return out.trim().split('\n');
}

test('C1 controls, DEL and bidi overrides are JSON escapes: safe on a terminal, and parse back unchanged', async () => {
  const hostile = 'image \u009b2J\u001b[31m\u007f\u202eEVIL\u2066x\u2028y';
  const [line] = await logLines((log) =>
    log.warn(`signing failed: ${hostile}`, { result: hostile, nested: { value: hostile } }),
  );
  assert.doesNotMatch(line!, /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
  const parsed = JSON.parse(line!) as { message: string; result: string; nested: { value: string } };
  assert.equal(parsed.message, `signing failed: ${hostile}`);
  assert.equal(parsed.result, hostile);
  assert.equal(parsed.nested.value, hostile);
});

test("secrets in messages and nested fields are redacted; the caller's object is not changed", async () => {
  const pem = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nc2VjcmV0\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----';
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl';
  const fields = {
    request: { headers: { Authorization: 'Bearer abc' }, url: 'https://user:pa55@registry.example/v2/' },
    secrets: ['x'],
  };
  const [line] = await logLines((log) =>
    log.error(`GET /x: Authorization: Bearer sk-live-123 (cosign.password: hunter2, token=${jwt}) key ${pem}`, {
      error: `login: Basic dXNlcjpwYXNz`,
      ...fields,
    }),
  );
  for (const secret of ['sk-live-123', 'hunter2', jwt, 'c2VjcmV0', 'dXNlcjpwYXNz', 'pa55', 'Bearer abc']) {
    assert.ok(!line!.includes(secret), `${secret} in ${line}`);
  }
  const parsed = JSON.parse(line!) as { message: string; request: { url: string }; secrets: string };
  assert.match(parsed.message, /Authorization: Bearer \[redacted\] \(cosign\.password: \[redacted\], /);
  assert.match(parsed.message, /token=\[redacted( JWT)?\]\)/);
  assert.match(parsed.message, /key \[redacted ENCRYPTED SIGSTORE private key\]$/);
  assert.equal(parsed.request.url, 'https://[redacted]@registry.example/v2/');
  assert.equal(parsed.secrets, '[redacted]');
  assert.equal(fields.request.headers.Authorization, 'Bearer abc', 'logging does not change the caller’s object');
  // ordinary text is left alone
  const plain = 'no token file at /var/run/token; 3 secrets found';
  assert.equal(redactText(plain), plain);
});
