// What the SigningPolicy e2e tests share: an image-building TaskRun, waiting for its mark, applying YAML, and
// cosign keyless verification against the stack's Fulcio root and Rekor key (also used by the keyless tests).
import assert from 'node:assert/strict';
import type { Run } from '../../src/tekton/types.js';
import { cosign, type ToolOutcome } from './cosign.js';
import { fulcioEnv, rekorEnv, stackEnv } from './env.js';
import { pushRandomImage, type PushedImage } from './registry.js';
import { kubectl } from './scenario.js';
import { completeTaskRun, createTaskRun, getTaskRun } from './tekton.js';
import type { ControllerProcess } from './controller.js';
import { waitFor } from './wait.js';

const SIGNED = 'chains.tekton.dev/signed';

/** A TaskRun in `ns` (with `labels`) that built a fresh image pushed to `<registry>/<repo>`, completed. */
export async function imageRun(
  ns: string,
  repo: string,
  labels: Record<string, string> = {},
): Promise<{ image: PushedImage; name: string; uid: string }> {
  const image = await pushRandomImage(`${stackEnv().registry}/${repo}`);
  const tr = await createTaskRun(ns, { metadata: { labels } });
  await completeTaskRun(ns, tr.metadata.name!, {
    results: [
      { name: 'IMAGE_URL', type: 'string', value: image.repository },
      { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
    ],
  });
  return { image, name: tr.metadata.name!, uid: tr.metadata.uid! };
}

/** Waits until the run's `chains.tekton.dev/signed` is `want`; any other mark fails with the controller's log. */
export async function waitMarked(ns: string, name: string, want: string, c: ControllerProcess): Promise<Run> {
  return waitFor(
    async () => {
      const r = await getTaskRun(ns, name);
      const v = r.metadata.annotations?.[SIGNED];
      if (v === want) return r;
      if (v !== undefined) throw new Error(`${ns}/${name}: signed=${v}, expected ${want}\n${c.logs().slice(-3000)}`);
      return undefined;
    },
    { timeoutMs: 120_000, description: `${ns}/${name} signed=${want}` },
  );
}

/** `kubectl apply -f -` with the stack's admin kubeconfig; fails the test on an error. */
export async function applyYaml(yaml: string): Promise<void> {
  const r = await kubectl(['apply', '-f', '-'], yaml);
  assert.equal(r.code, 0, r.stderr);
}

/** cosign keyless verification for `identity` against the stack's Fulcio root and Rekor key. */
export function cosignKeyless(args: string[], identity: string): Promise<ToolOutcome> {
  const fulcio = fulcioEnv();
  const rekor = rekorEnv();
  return cosign(
    [
      ...args,
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      fulcio.issuer,
      '--insecure-ignore-sct',
      '--rekor-url',
      rekor.url,
      '--allow-http-registry',
    ],
    { SIGSTORE_ROOT_FILE: fulcio.root, SIGSTORE_REKOR_PUBLIC_KEY: rekor.publicKey },
  );
}
