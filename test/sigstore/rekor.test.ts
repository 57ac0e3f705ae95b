import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { ChainsmithError } from '../../src/errors.js';
import {
  dsseEntry,
  hashedRekordEntry,
  intotoEntry,
  parseLogEntry,
  RekorClient,
  transparencyEntryUrl,
  verifierPem,
} from '../../src/sigstore/rekor.js';

const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = verifierPem('', publicKey);
const UUID = '0e1b52c781af399a' + 'ab'.repeat(32);
const ENVELOPE = Buffer.from('{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}');

function body(kind: string, spec: unknown): string {
  return Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind, spec })).toString('base64');
}

function logEntry(b64Body: string, extra: object = {}): string {
  return JSON.stringify({
    [UUID]: {
      body: b64Body,
      integratedTime: 1796319108,
      logID: 'bc'.repeat(32),
      logIndex: 7,
      verification: {
        signedEntryTimestamp: 'c2V0',
        inclusionProof: {
          logIndex: 7,
          rootHash: 'aa'.repeat(32),
          treeSize: 8,
          hashes: ['bb'.repeat(32)],
          checkpoint: 'c',
        },
      },
      ...extra,
    },
  });
}

/** A loopback stand-in for Rekor that answers what `handler` says (error cases only; the real Rekor is in e2e/). */
async function standIn(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => handler(req, res, b));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function rejection(p: Promise<unknown>): Promise<ChainsmithError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ChainsmithError, String(err));
    return err;
  }
  assert.fail('expected a rejection');
}

test('entries are what cosign/Chains propose: hashedrekord over sha256(payload), dsse/intoto over the exact envelope', () => {
  const hr = hashedRekordEntry(Buffer.from('abc'), Buffer.from([1, 2]), PEM);
  assert.deepEqual(hr, {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: {
        hash: { algorithm: 'sha256', value: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
      },
      signature: { content: 'AQI=', publicKey: { content: Buffer.from(PEM).toString('base64') } },
    },
  });
  assert.equal(
    JSON.stringify(dsseEntry(ENVELOPE, PEM)),
    `{"apiVersion":"0.0.1","kind":"dsse","spec":{"proposedContent":{"envelope":${JSON.stringify(ENVELOPE.toString())},` +
      `"verifiers":["${Buffer.from(PEM).toString('base64')}"]}}}`,
  );
  assert.equal(
    JSON.stringify(intotoEntry(ENVELOPE, PEM)),
    `{"apiVersion":"0.0.1","kind":"intoto","spec":{"content":{"envelope":${JSON.stringify(ENVELOPE.toString())}},` +
      `"publicKey":"${Buffer.from(PEM).toString('base64')}"}}`,
  );
  assert.equal(verifierPem('CERT', publicKey), 'CERT', 'a certificate is the verifier when there is one');
  assert.equal(
    transparencyEntryUrl('https://rekor.sigstore.dev', 5),
    'https://rekor.sigstore.dev/api/v1/log/entries?logIndex=5',
  );
});

test('a log entry is parsed with its SET and inclusion proof; malformed answers are refused with a reason', () => {
  const e = parseLogEntry(Buffer.from(logEntry(body('dsse', {}))));
  assert.ok(typeof e !== 'string');
  assert.equal(e.uuid, UUID);
  assert.equal(e.logIndex, 7);
  assert.equal(e.kind, 'dsse');
  assert.equal(e.signedEntryTimestamp, 'c2V0');
  assert.equal(e.inclusionProof?.treeSize, 8);
  assert.equal(parseLogEntry(Buffer.from('<html>')), 'not JSON');
  assert.equal(parseLogEntry(Buffer.from('[]')), 'not a JSON object');
  assert.equal(
    parseLogEntry(Buffer.from(logEntry(body('dsse', {}), { logIndex: -1 }))),
    'logIndex is not a non-negative integer',
  );
  assert.equal(parseLogEntry(Buffer.from(logEntry('not base64 json'))), 'body is not base64 JSON');
});

test('stand-in: a 5xx and a refused connection are transient TransparencyFailed errors', async () => {
  // stand-in for Rekor (loopback): answers 503 to everything
  const s = await standIn((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"code":503,"message":"trillian unavailable"}');
  });
  try {
    const err = await rejection(new RekorClient({ url: s.url }).upload(dsseEntry(ENVELOPE, PEM)));
    assert.equal(err.reason, 'TransparencyFailed');
    assert.equal(err.transient, true);
    assert.match(err.message, /creating the entry: HTTP 503: trillian unavailable/);
  } finally {
    await s.close();
  }
  const refused = await rejection(new RekorClient({ url: s.url }).upload(dsseEntry(ENVELOPE, PEM)));
  assert.equal(refused.transient, true);
  assert.match(refused.message, /POST failed/);
});

test('stand-in: a 400 is permanent, with Rekor’s message escaped', async () => {
  // stand-in for Rekor (loopback): refuses the entry
  const s = await standIn((_req, res) => {
    res.writeHead(400);
    res.end('{"code":400,"message":"bad\\u001b[31m entry"}');
  });
  try {
    const err = await rejection(new RekorClient({ url: s.url }).upload(dsseEntry(ENVELOPE, PEM)));
    assert.equal(err.transient, false);
    assert.match(err.message, /HTTP 400: bad\\x1b\[31m entry|HTTP 400: bad\\u001b\[31m entry/);
  } finally {
    await s.close();
  }
});

test('stand-in: a garbage 201 body is refused, not trusted', async () => {
  // stand-in for Rekor (loopback): 201 with HTML
  const s = await standIn((_req, res) => {
    res.writeHead(201);
    res.end('<html>hello</html>');
  });
  try {
    const err = await rejection(new RekorClient({ url: s.url }).upload(dsseEntry(ENVELOPE, PEM)));
    assert.equal(err.reason, 'TransparencyFailed');
    assert.equal(err.transient, false);
    assert.match(err.message, /not a Rekor log entry: not JSON/);
  } finally {
    await s.close();
  }
});

test('stand-in: a huge body is cut off at the limit, and a silent server times out', async () => {
  // stand-in for Rekor (loopback): streams 8 MiB, or never answers
  const s = await standIn((req, res) => {
    if (req.url?.includes('slow')) return; // never answers
    res.writeHead(201);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const more = (): void => {
      while (sent < 8 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  try {
    const big = await rejection(
      new RekorClient({ url: s.url, maxResponseBytes: 64 * 1024 }).upload(dsseEntry(ENVELOPE, PEM)),
    );
    assert.match(big.message, /larger than 65536 bytes/);
    assert.equal(big.transient, false);
    const slow = await rejection(
      new RekorClient({ url: `${s.url}/slow`, timeoutMs: 300 }).upload(dsseEntry(ENVELOPE, PEM)),
    );
    assert.equal(slow.transient, true);
  } finally {
    await s.close();
  }
});

test('stand-in: 409 fetches the existing entry from Location and accepts it only when it records the same envelope', async () => {
  // stand-in for Rekor (loopback): 409 with a Location, then the entry; its envelopeHash matches or not
  const { createHash } = await import('node:crypto');
  let envelopeHash = createHash('sha256').update(ENVELOPE).digest('hex');
  const gets: string[] = [];
  const s = await standIn((req, res) => {
    if (req.method === 'POST') {
      res.writeHead(409, { location: `/api/v1/log/entries/${UUID}` });
      res.end('{"code":409,"message":"an equivalent entry already exists"}');
      return;
    }
    gets.push(req.url ?? '');
    res.writeHead(200);
    res.end(logEntry(body('dsse', { envelopeHash: { algorithm: 'sha256', value: envelopeHash } })));
  });
  try {
    const client = new RekorClient({ url: s.url });
    const e = await client.upload(dsseEntry(ENVELOPE, PEM));
    assert.equal(e.logIndex, 7);
    assert.deepEqual(gets, [`/api/v1/log/entries/${UUID}`]);
    envelopeHash = 'ff'.repeat(32);
    const err = await rejection(client.upload(dsseEntry(ENVELOPE, PEM)));
    assert.match(err.message, /does not record this signature: another envelope hash/);
    const kind = await rejection(client.upload(intotoEntry(ENVELOPE, PEM)));
    assert.match(kind.message, /it is dsse 0.0.1, not intoto 0.0.1/);
  } finally {
    await s.close();
  }
});

test('stand-in: 409 without a Location is a permanent error', async () => {
  // stand-in for Rekor (loopback): 409 and nothing else
  const s = await standIn((_req, res) => {
    res.writeHead(409);
    res.end('{}');
  });
  try {
    const err = await rejection(new RekorClient({ url: s.url }).upload(dsseEntry(ENVELOPE, PEM)));
    assert.match(err.message, /409 Conflict without an entry location/);
    assert.equal(err.transient, false);
  } finally {
    await s.close();
  }
});

test('transparency.url must be an http(s) URL without credentials', () => {
  assert.throws(() => new RekorClient({ url: 'not a url' }), /is not a URL/);
  assert.throws(() => new RekorClient({ url: 'ftp://rekor' }), /not http or https/);
  assert.throws(() => new RekorClient({ url: 'https://u:p@rekor' }), /credentials/);
});
