// Embedded Tekton objects as Go writes them (src/formats/go-types): Go's field order, zero values and omitempty,
// and the types with their own encoding. Expected values are what Go printed for the same input (time.Duration
// String, apimachinery v0.36 resource.Quantity and metav1.Time, encoding/json with Tekton v1.14 / Chains v0.28.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonMarshalAs } from '../../src/formats/go-json.js';
import { formatGoDuration, parseGoDuration } from '../../src/formats/go-types/duration.js';
import { LAYOUT_SOURCE } from '../../src/formats/go-types/layout.js';
import { goRoundTrip } from '../../src/formats/go-types/marshal.js';
import { canonicalQuantity } from '../../src/formats/go-types/quantity.js';
import { metav1Time } from '../../src/formats/time.js';

test('the layout is the one Tekton Chains v0.28.1 builds with', () => {
  assert.match(LAYOUT_SOURCE, /github\.com\/tektoncd\/chains@v0\.28\.1 /);
  assert.match(LAYOUT_SOURCE, /github\.com\/tektoncd\/pipeline@v\d+\.\d+\.\d+ /);
});

test('durations come out as Go prints them (metav1.Duration: ParseDuration, then String)', () => {
  const go: Array<[string, string | undefined]> = [
    ['90m', '1h30m0s'],
    ['2h', '2h0m0s'],
    ['1h0m0s', '1h0m0s'],
    ['1.5s', '1.5s'],
    ['250ms', '250ms'],
    ['0', '0s'],
    ['1us', '1µs'],
    ['-3m', '-3m0s'],
    ['0.5h', '30m0s'],
    ['.5s', '500ms'],
    ['1.0000000005h', '1h0m0.0000018s'],
    ['0.3333333333333h', '19m59.999999999s'],
    ['-9223372036854775808ns', '-2562047h47m16.854775808s'],
    ['9223372036854775808ns', undefined],
    ['1', undefined],
    ['1e3s', undefined],
    ['', undefined],
  ];
  for (const [input, want] of go) {
    const ns = parseGoDuration(input);
    assert.equal(ns === undefined ? undefined : formatGoDuration(ns), want, input);
  }
});

test('quantities come out in Go canonical form, or as written when that already is canonical', () => {
  const go: Array<[string, string | undefined]> = [
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['0.5', '500m'],
    ['0.25', '250m'],
    ['1000m', '1'],
    ['1.5Gi', '1536Mi'],
    ['1000k', '1M'],
    ['+1Gi', '+1Gi'],
    ['-0.5', '-500m'],
    ['1.', '1.'],
    ['0.1n', '1n'],
    ['1e-12', '1e-9'],
    ['1.5e3', '1500'],
    ['0.1Ki', '102400m'],
    ['8Ei', '9223372036854775807'],
    ['1000E', '1'],
    [' 1Gi ', '1Gi'],
    ['e3', '0'],
    ['1Gb', undefined],
    ['1 Gi', undefined],
  ];
  for (const [input, want] of go) assert.equal(canonicalQuantity(input), want, input);
});

test('metav1.Time: whole seconds in UTC; the zero time and unreadable text are null', () => {
  assert.equal(metav1Time('2026-11-03T08:00:37.912Z'), '2026-11-03T08:00:37Z');
  assert.equal(metav1Time('2026-11-03T09:00:37.999999999+01:00'), '2026-11-03T08:00:37Z');
  assert.equal(metav1Time('0050-06-01T00:00:00Z'), '0050-06-01T00:00:00Z');
  assert.equal(metav1Time('0001-01-01T00:00:00Z'), undefined);
  assert.equal(metav1Time('0001-01-01T00:00:00.5Z'), '0001-01-01T00:00:00Z');
  assert.equal(metav1Time('2026-02-30T00:00:00Z'), undefined);
  assert.equal(metav1Time('2026-11-03T24:00:00Z'), undefined);
  assert.equal(metav1Time('yesterday'), undefined);
});

test('a TaskRun comes out with Go field order, Go zero values and no unknown fields', () => {
  const tr = {
    status: {
      conditions: [{ reason: 'Succeeded', type: 'Succeeded', status: 'True' }],
      startTime: '2026-11-03T08:00:38.000001Z',
      completionTime: null,
      steps: [{ imageID: 'x@sha256:1', name: 's', terminated: { exitCode: 0, finishedAt: null } }],
      taskSpec: { steps: [{ name: 's', image: 'x' }] },
      futureField: 'dropped',
    },
    spec: { Params: [{ name: 'p', value: 'v' }], taskRef: { name: 'build' }, timeout: '90m' },
    metadata: { name: 'tr', creationTimestamp: null, labels: {}, uid: 'u' },
  };
  assert.equal(
    goJsonMarshalAs(tr, 'TaskRun'),
    '{"metadata":{"name":"tr","uid":"u"},' +
      '"spec":{"params":[{"name":"p","value":"v"}],"serviceAccountName":"","taskRef":{"name":"build"},"timeout":"1h30m0s"},' +
      '"status":{"conditions":[{"type":"Succeeded","status":"True","lastTransitionTime":null,"reason":"Succeeded"}],' +
      '"podName":"","startTime":"2026-11-03T08:00:38Z",' +
      '"steps":[{"terminated":{"exitCode":0,"startedAt":null,"finishedAt":null},"name":"s","imageID":"x@sha256:1"}],' +
      '"taskSpec":{"steps":[{"name":"s","image":"x","computeResources":{}}]}}}',
  );
});

test('omitempty drops empty lists and maps, but a field without it keeps null; pointers keep their zero values', () => {
  const spec = {
    workspaces: [
      { name: 'p', projected: {} },
      { name: 'e', emptyDir: {}, subPath: '' },
    ],
    params: [],
    podTemplate: { nodeSelector: {}, hostNetwork: false, automountServiceAccountToken: false },
  };
  assert.deepEqual(goRoundTrip(spec, 'TaskRunSpec'), {
    serviceAccountName: '',
    podTemplate: { automountServiceAccountToken: false },
    workspaces: [
      { name: 'p', projected: { sources: null } },
      { name: 'e', emptyDir: {} },
    ],
  });
});

test('a volumeClaimTemplate loses the null creationTimestamp Go omits, and keeps its empty status', () => {
  const spec = {
    workspaces: [
      {
        name: 'source',
        volumeClaimTemplate: {
          metadata: { creationTimestamp: null },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1024Mi' } } },
          status: {},
        },
      },
    ],
  };
  assert.deepEqual(goRoundTrip(spec, 'PipelineRunSpec'), {
    taskRunTemplate: {},
    workspaces: [
      {
        name: 'source',
        volumeClaimTemplate: {
          metadata: {},
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          status: {},
        },
      },
    ],
  });
});

test('keys match their field in any case, the last one wins, and null leaves a value field alone', () => {
  assert.deepEqual(goRoundTrip({ NAME: 'a', name: 'b', Kind: 'Task', kind: null }, 'TaskRef'), {
    name: 'b',
    kind: 'Task',
  });
  assert.deepEqual(goRoundTrip({ name: 'b', NAME: 'a' }, 'TaskRef'), { name: 'a' });
});

test('param values: strings, lists and objects of strings as Go writes them; other JSON as its text', () => {
  const spec = {
    params: [
      { name: 'a', value: ['x', null] },
      { name: 'b', value: { z: '1', a: '2' } },
      { name: 'c', value: 5 },
      { name: 'd', value: null },
      { name: 'e', value: { k: 1 } },
    ],
  };
  assert.deepEqual((goRoundTrip(spec, 'TaskRunSpec') as { params: unknown }).params, [
    { name: 'a', value: ['x', ''] },
    { name: 'b', value: { a: '2', z: '1' } },
    { name: 'c', value: '5' },
    { name: 'd', value: '' },
    { name: 'e', value: '{"k":1}' },
  ]);
});

test('embedded objects are escaped as Go escapes them and never gain a prototype from the input', () => {
  const text = goJsonMarshalAs(
    JSON.parse('{"metadata":{"name":"<a>&b","labels":{"__proto__":"x","z\\u2028":"y"}}}') as unknown,
    'TaskRun',
  );
  assert.equal(
    text,
    '{"metadata":{"name":"\\u003ca\\u003e\\u0026b","labels":{"__proto__":"x","z\\u2028":"y"}},' +
      '"spec":{"serviceAccountName":""},"status":{"podName":""}}',
  );
});
