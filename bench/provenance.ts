// Benchmark: provenance for a large synthetic TaskRun (50 steps, 100 results) in every run format.
// Prints the median time per payload and payloads per second; it measures, it does not assert.
// Run: npm run bench:provenance  (or node --import tsx bench/provenance.ts [iterations])
import { createHash } from 'node:crypto';
import { DEFAULT_CONFIG } from '../src/config/parse.js';
import { payloadFormat, RUN_FORMATS } from '../src/formats/index.js';
import type { FormatInput } from '../src/formats/types.js';
import type { RunResult, TaskRun } from '../src/tekton/types.js';

const STEPS = 50;
const RESULTS = 100;

function hex(seed: string, bytes = 32): string {
  return createHash('sha256')
    .update(seed)
    .digest('hex')
    .slice(0, bytes * 2);
}

/** 100 results mixing every hint kind: image pairs, IMAGES, artifact pairs, object inputs/outputs, plain values. */
function results(): RunResult[] {
  const out: RunResult[] = [];
  for (let i = 0; i < 15; i++) {
    out.push({ name: `img${i}_IMAGE_URL`, type: 'string', value: `registry.example.com/team/app-${i}:v${i}\n` });
    out.push({ name: `img${i}_IMAGE_DIGEST`, type: 'string', value: `sha256:${hex(`img${i}`)}` });
  }
  out.push({
    name: 'IMAGES',
    type: 'string',
    value: Array.from({ length: 5 }, (_, i) => `ghcr.io/example/extra-${i}@sha256:${hex(`extra${i}`)}`).join(',\n'),
  });
  for (let i = 0; i < 10; i++) {
    out.push({ name: `jar${i}_ARTIFACT_URI`, type: 'string', value: `pkg:maven/com.example/lib-${i}@1.${i}.0` });
    out.push({ name: `jar${i}_ARTIFACT_DIGEST`, type: 'string', value: `sha256:${hex(`jar${i}`)}` });
  }
  for (let i = 0; i < 15; i++) {
    out.push({
      name: `bin${i}-ARTIFACT_OUTPUTS`,
      type: 'object',
      value: {
        uri: `registry.example.com/bins/b${i}`,
        digest: `sha256:${hex(`bin${i}`)}`,
        isBuildArtifact: i % 2 === 0 ? 'true' : 'false',
      },
    });
  }
  for (let i = 0; i < 10; i++) {
    out.push({
      name: `src${i}-ARTIFACT_INPUTS`,
      type: 'object',
      value: { uri: `https://github.com/example/dep-${i}`, digest: `sha1:${hex(`src${i}`, 20)}` },
    });
  }
  out.push({ name: 'CHAINS-GIT_URL', type: 'string', value: 'https://github.com/example/app' });
  out.push({ name: 'CHAINS-GIT_COMMIT', type: 'string', value: hex('commit', 20) });
  while (out.length < RESULTS)
    out.push({ name: `note-${out.length}`, type: 'string', value: `some <value> & text ${out.length}\n` });
  return out;
}

function largeTaskRun(): TaskRun {
  const steps = Array.from({ length: STEPS }, (_, i) => ({
    name: `step-${i}`,
    container: `step-step-${i}`,
    imageID: `docker-pullable://registry.example.com/tools/tool-${i % 10}@sha256:${hex(`tool${i % 10}`)}`,
    terminated: {
      exitCode: 0,
      reason: 'Completed',
      startedAt: '2026-11-20T10:15:02Z',
      finishedAt: '2026-11-20T10:16:40Z',
    },
  }));
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: {
      name: 'big-build',
      namespace: 'ci',
      uid: '0d6c3f8e-1111-4a2b-9c3d-5e6f7a8b9c0d',
      labels: { 'tekton.dev/task': 'big-build', 'app.kubernetes.io/managed-by': 'tekton-pipelines' },
      annotations: { 'pipeline.tekton.dev/release': 'v1.15.0' },
    },
    spec: {
      params: Array.from({ length: 10 }, (_, i) => ({ name: `P${i}`, value: `value-${i}` })),
      serviceAccountName: 'pipeline',
      taskRef: { name: 'big-build', kind: 'Task' },
    },
    status: {
      startTime: '2026-11-20T10:14:55Z',
      completionTime: '2026-11-20T10:16:41Z',
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
      steps,
      sidecars: [
        { name: 'proxy', container: 'sidecar-proxy', imageID: `ghcr.io/example/proxy@sha256:${hex('proxy')}` },
      ],
      results: results(),
      taskSpec: {
        params: Array.from({ length: 20 }, (_, i) => ({
          name: `P${i}`,
          type: 'string' as const,
          default: `default-${i}`,
        })),
        steps: steps.map((s, i) => ({
          name: s.name,
          image: `registry.example.com/tools/tool-${i % 10}`,
          script: `#!/bin/sh\nset -e\nmake target-${i}\n`,
        })),
      },
      provenance: { featureFlags: { enableAPIFields: 'beta', resultExtractionMethod: 'termination-message' } },
    },
  };
}

function measure(
  format: (typeof RUN_FORMATS)[number],
  input: FormatInput,
  iterations: number,
): { medianUs: number; bytes: number } {
  const f = payloadFormat(format);
  const config = DEFAULT_CONFIG;
  let bytes = 0;
  for (let i = 0; i < Math.min(200, iterations); i++) bytes = f.createPayload(input, config).bytes.length; // warm up the JIT
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    f.createPayload(input, config);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  return { medianUs: samples[Math.floor(iterations / 2)]!, bytes };
}

const iterations = Number(process.argv[2] ?? 2000);
const input: FormatInput = { kind: 'TaskRun', run: largeTaskRun() };
console.log(
  `provenance for a TaskRun with ${STEPS} steps and ${RESULTS} results, ${iterations} runs per format (node ${process.version})`,
);
console.log('format          median µs/run   runs/s (1/median)   payload bytes');
for (const format of RUN_FORMATS) {
  const { medianUs, bytes } = measure(format, input, iterations);
  console.log(
    `${format.padEnd(15)} ${medianUs.toFixed(1).padStart(14)}   ${Math.round(1e6 / medianUs)
      .toString()
      .padStart(17)}   ${String(bytes).padStart(13)}`,
  );
}
