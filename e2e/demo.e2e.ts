// `npm run demo`, the README's first command, run as a newcomer runs it — against the already running
// test stack (the demo then uses it and leaves it up), in namespaces of its own. It must sign the sample
// TaskRun and PipelineRun, pass cosign's signature and provenance checks, show that a policy on another
// builder.id fails, and leave nothing behind: no controller process, no key pair on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomSuffix, REPO_ROOT, stackEnv } from './lib/index.js';

test(
  'npm run demo signs a TaskRun and a PipelineRun, verifies them with cosign, and cleans up',
  { timeout: 10 * 60_000 },
  async () => {
    const env = stackEnv();
    const suffix = randomSuffix();
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        'bash',
        ['e2e/demo.sh'],
        {
          cwd: REPO_ROOT,
          timeout: 9 * 60_000,
          maxBuffer: 16 << 20,
          env: {
            ...process.env,
            STACK_DIR: env.stackDir,
            DEMO_NAMESPACE: `demo-e2e-${suffix}`,
            DEMO_SYSTEM_NAMESPACE: `demo-e2e-system-${suffix}`,
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }),
      );
    });
    assert.equal(result.code, 0, `the demo failed:\n${result.out.slice(-4000)}`);
    const out = result.out;
    assert.match(out, /a healthy stack is already running; using it/);
    assert.equal(
      out.match(/chains\.tekton\.dev\/signed: "true"/g)?.length,
      3,
      'the TaskRun, the pipeline task and the PipelineRun are signed',
    );
    assert.match(out, /Event Normal Signed: signed PipelineRun attestation/);
    assert.equal(
      out.match(/1 valid signature in the image's \.sig tag/g)?.length,
      2,
      'cosign verify passes for both images',
    );
    assert.match(out, /builder\.id {2}https:\/\/chainsmith\.dev\/demo\/builder {3}← required by the policy/);
    assert.match(
      out,
      /2 attestations passed the signature check and the builder\.id policy/,
      'the PipelineRun and its task both attested the web image',
    );
    assert.match(out, /builder\.rego allowed the provenance/);
    assert.match(
      out,
      /VERIFIED {2}\S+\/demo\/web@sha256:[0-9a-f]{64}\n(?:.*\n)*? +PASS {2}builder-id {5}every verified provenance names builder/,
      'chainsmith verify agrees',
    );
    assert.match(out, /rejected by the policy: predicate\.builder\.id: conflicting values/);
    assert.match(out, /\] done\./);

    // Cleaned up: the work directory (key pair, logs) is gone and no controller is left running.
    const work = /log: (\/\S+)\/controller\.log/.exec(out)?.[1];
    assert.ok(work, 'the demo names its work directory');
    assert.equal(existsSync(work), false, `${work} (with the private key) was removed`);
    const pid = /controller ready \(pid (\d+)\)/.exec(out)?.[1];
    assert.ok(pid);
    assert.throws(() => process.kill(Number(pid), 0), 'the controller process was stopped');
  },
);
