// Byte-level rules of spec §3.0: escaping, key order, omission, numbers, times, Go JSON blobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serialise, toStruct } from '../../src/formats/serialise.js';
import { goJsonMarshal } from '../../src/formats/go-json.js';
import { statementObject, statementPayload } from '../../src/formats/statement.js';
import { goTime, protoTime } from '../../src/formats/time.js';
import { ChainsmithError } from '../../src/errors.js';

test('strings escape only ", \\ and control characters; no HTML escaping (§3.0 rule 5)', () => {
  const out = serialise({ s: 'a<b>&c "q" \\ \b\f\n\r\t\u0001\u001f é ✓ 😀' }).toString('utf8');
  assert.equal(out, '{"s":"a<b>&c \\"q\\" \\\\ \\b\\f\\n\\r\\t\\u0001\\u001f é ✓ 😀"}');
});

test('serialise is compact with no space after commas (§3.0 rule 6)', () => {
  assert.equal(serialise({ a: [1, 2], b: { c: true, d: null } }).toString(), '{"a":[1,2],"b":{"c":true,"d":null}}');
});

test('numbers print like JavaScript: 4096, not 4096.0 (§3.0 rule 4)', () => {
  assert.equal(serialise(toStruct({ n: 4096, f: 0.5, big: 1e21 })).toString(), '{"big":1e+21,"f":0.5,"n":4096}');
});

test('text that is not valid Unicode is a payload error, as invalid UTF-8 is for Go', () => {
  assert.throws(
    () => serialise({ s: 'bad \ud800 surrogate' }),
    (e: unknown) => e instanceof ChainsmithError && e.reason === 'PayloadFailed',
  );
  // an escaped backslash followed by "ud800" is ordinary text
  assert.equal(serialise({ s: '\\ud800' }).toString(), '{"s":"\\\\ud800"}');
  // a well-formed surrogate pair is fine
  assert.equal(serialise({ s: '😀' }).toString(), '{"s":"😀"}');
});

test('toStruct sorts keys at every depth, keeps nulls, drops undefined (§3.0 rule 4)', () => {
  const s = toStruct({ b: 1, a: { z: null, y: [{ d: 1, c: 2 }] }, u: undefined, A: 0 });
  assert.equal(JSON.stringify(s), '{"A":0,"a":{"y":[{"c":2,"d":1}],"z":null},"b":1}');
});

test('statement: proto field order on top, subjects as ResourceDescriptors, predicate sorted (§3.0 rules 1–3)', () => {
  const obj = statementObject({
    type: 'https://in-toto.io/Statement/v1',
    subjects: [{ name: 'x', digest: { sha512: 'b', sha256: 'a' } }],
    predicateType: 'p',
    predicate: { z: 1, a: { d: 1, c: 2 } },
  });
  assert.equal(
    JSON.stringify(obj),
    '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"a","sha512":"b"}}],"predicateType":"p","predicate":{"a":{"c":2,"d":1},"z":1}}',
  );
});

test('statement: `subject` is omitted entirely when there are no subjects (§3.0 rule 3)', () => {
  const p = statementPayload({
    type: 'https://in-toto.io/Statement/v0.1',
    subjects: [],
    predicateType: 'p',
    predicate: {},
  });
  assert.equal(p.bytes.toString(), '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"p","predicate":{}}');
  assert.deepEqual(p.subjects, []);
});

test('Go JSON blobs: HTML characters and U+2028/9 escaped, map keys sorted', () => {
  assert.equal(goJsonMarshal('a<b>&c\u2028'), '"a\\u003cb\\u003e\\u0026c\\u2028"');
  assert.equal(goJsonMarshal({ uri: 'u', digest: 'd' }), '{"digest":"d","uri":"u"}');
  assert.equal(goJsonMarshal(['x', 'y']), '["x","y"]');
  assert.equal(goJsonMarshal('line\n'), '"line\\n"');
});

test('times: Go RFC3339Nano for v0.2, protojson Timestamp (0/3/6/9 digits) for v1.0, both in UTC', () => {
  assert.equal(goTime('2021-03-29T09:50:00Z'), '2021-03-29T09:50:00Z');
  assert.equal(goTime('2021-03-29T11:50:00+02:00'), '2021-03-29T09:50:00Z');
  assert.equal(goTime('2021-03-29T09:50:00.500Z'), '2021-03-29T09:50:00.5Z');
  assert.equal(goTime('2021-03-29T00:10:00-00:30'), '2021-03-29T00:40:00Z');
  assert.equal(protoTime('2021-03-29T09:50:00Z'), '2021-03-29T09:50:00Z');
  assert.equal(protoTime('2021-03-29T09:50:00.5Z'), '2021-03-29T09:50:00.500Z');
  assert.equal(protoTime('2021-03-29T09:50:00.1234Z'), '2021-03-29T09:50:00.123400Z');
  assert.equal(protoTime('2021-03-29T09:50:00.1234567Z'), '2021-03-29T09:50:00.123456700Z');
  assert.equal(protoTime('2021-12-31T23:30:00-01:00'), '2022-01-01T00:30:00Z');
  assert.throws(
    () => goTime('yesterday'),
    (e: unknown) => e instanceof ChainsmithError && e.reason === 'PayloadFailed',
  );
});
