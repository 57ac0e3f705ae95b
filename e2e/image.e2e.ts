// The container image itself, run with podman against the test stack the way the Kubernetes manifests run it: uid
// 65532, read-only root filesystem, all capabilities dropped, no privilege escalation, a tmpfs /tmp, the signing key
// and a kubeconfig mounted read-only, host network (the stack listens on loopback). It must sign a TaskRun end to end
// (cosign verifies the image signature it pushes) and answer /readyz; and the image must hold what the Dockerfile
// promises: production dependencies only, every compiled module loadable, Node of the major the tests run on, no
// shell.
// The image is built by `npm run image` (e2e/image/build.sh): the unchanged Dockerfile built with buildah (vfs
// storage, chroot isolation, in ~/.cache/chainsmith/image/), its NODE_IMAGE and RUNTIME_IMAGE assembled from Debian's
// nodejs 20 packages with mmdebstrap, as no registry is reachable. CI builds it in the background (.ci/run) and
// e2e/run.sh runs this file once it is built. If the image is missing, every test here FAILS saying how to build it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  createNamespace,
  getTaskRun,
  pushRandomImage,
  randomSuffix,
  REPO_ROOT,
  stackEnv,
  waitFor,
} from './lib/index.js';
import { closedPort, cosign } from './lib/cosign.js';
import {
  completeImageTaskRun,
  runCommand,
  writeChainsConfig,
  x509SecretsDir,
  type CommandResult,
} from './lib/scenario.js';

const IMAGE = process.env.CHAINSMITH_IMAGE ?? 'localhost/chainsmith:dev';
const IMAGE_CACHE = join(process.env.CHAINSMITH_CACHE ?? join(homedir(), '.cache', 'chainsmith'), 'image');
// The storage and engine settings e2e/image/build.sh wrote (e2e/image/common.sh): vfs, runc, cgroupfs, limits.
const PODMAN_ENV = {
  CONTAINERS_STORAGE_CONF: join(IMAGE_CACHE, 'storage.conf'),
  CONTAINERS_CONF: join(IMAGE_CACHE, 'containers.conf'),
};
const NONROOT = 65532;

function podman(args: string[], timeoutMs = 120_000): Promise<CommandResult> {
  return runCommand('podman', args, { env: PODMAN_ENV, timeoutMs });
}

/** Runs `node -e script` in a throwaway container of the image (read-only, uid 65532); resolves its stdout. */
async function nodeInImage(script: string): Promise<string> {
  // prettier-ignore
  const r = await podman([
    'run', '--rm', '--read-only', '--user', `${NONROOT}:${NONROOT}`, '--network', 'none',
    '--entrypoint', '/nodejs/bin/node', IMAGE, '--input-type=module', '-e', script,
  ]);
  assert.equal(r.code, 0, `node in the image failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Fails with how to build the image when it is not there (never a silent skip); every test starts with it. */
async function requireImage(): Promise<void> {
  const r = await podman(['image', 'exists', IMAGE]).catch((err: Error) => ({
    code: -1,
    stdout: '',
    stderr: err.message,
  }));
  if (r.code !== 0) {
    throw new Error(
      `the image ${IMAGE} is not built (podman image exists: exit ${r.code}${r.stderr ? `, ${r.stderr.trim()}` : ''}). ` +
        'Build it with `npm run image` (e2e/image/build.sh, which also installs podman; 4-8 min cold, see docs/testing.md), ' +
        'then run this test again.',
    );
  }
}

/**
 * Makes a path readable by uid 65532 only (the container's user), as a kubelet-mounted Secret would be; not running as
 * root (rootless podman maps 65532 to a sub-uid), readable by everyone instead.
 */
async function ownForNonroot(path: string, mode: number): Promise<void> {
  if (process.getuid?.() === 0) {
    await chown(path, NONROOT, NONROOT);
    await chmod(path, mode);
  } else {
    await chmod(path, (await stat(path)).isDirectory() ? 0o755 : 0o644);
  }
}

describe(`the container image ${IMAGE}`, () => {
  test('holds production dependencies only, loads every compiled module, and has Node 20 and no shell', async () => {
    await requireImage();
    const size = Number((await podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE])).stdout.trim());
    console.log(`image ${IMAGE}: ${Math.round(size / 1e6)} MB`);
    assert.ok(size > 50e6 && size < 400e6, `image size ${size} bytes`);

    // package-lock.json marks packages needed only for development `"dev": true` (typescript, tsx, esbuild…).
    const lock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([p, meta]) => p.startsWith('node_modules/') && meta.dev === true)
      .map(([p]) => p);
    assert.ok(devOnly.includes('node_modules/typescript'), 'the lockfile marks typescript dev-only');
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const deps = Object.keys(pkg.dependencies).map((d) => `node_modules/${d}/package.json`);
    const shells = ['/bin/sh', '/bin/bash', '/bin/dash', '/usr/bin/sh', '/usr/bin/bash', '/usr/bin/dash'];

    // One container (each `podman run` copies the image with the vfs driver): what is in /app, which packages are
    // there, which compiled modules fail to load (e.g. the lazily imported KMS signers), which shells exist.
    const found = JSON.parse(
      await nodeInImage(
        `const { existsSync, readdirSync } = await import('node:fs');
         const modules = readdirSync('dist/src', { recursive: true }).filter((f) => f.endsWith('.js'));
         const failures = [];
         for (const m of modules) {
           try { await import('/app/dist/src/' + m); } catch (e) { failures.push(m + ': ' + e.message); }
         }
         console.log(JSON.stringify({
           node: process.versions.node,
           app: readdirSync('.').sort(),
           present: ${JSON.stringify([...devOnly, ...deps])}.filter((p) => existsSync(p)),
           modules: modules.length,
           failures,
           shells: ${JSON.stringify(shells)}.filter((p) => existsSync(p)),
         }));`,
      ),
    ) as { node: string; app: string[]; present: string[]; modules: number; failures: string[]; shells: string[] };

    // The Node the tests run on and the Node in the image share a major (the Dockerfile's bases are Node 20).
    assert.equal(found.node.split('.')[0], process.versions.node.split('.')[0], `node ${found.node} in the image`);
    // Only what the runtime stage copies: compiled code, production node_modules, package.json; no sources.
    assert.deepEqual(found.app, ['dist', 'node_modules', 'package.json']);
    assert.deepEqual(
      devOnly.filter((p) => found.present.includes(p)),
      [],
      'no dev-only package is in the image',
    );
    assert.deepEqual(
      deps.filter((p) => !found.present.includes(p)),
      [],
      'every dependency is in the image',
    );
    assert.ok(found.modules > 20, `compiled modules found: ${found.modules}`);
    assert.deepEqual(found.failures, [], 'modules that fail to load in the image');
    // No shell for an intruder: the distroless promise of the Dockerfile's runtime base.
    assert.deepEqual(found.shells, [], 'shells in the image');
    const sh = await podman(['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', IMAGE, '-c', 'true']);
    assert.notEqual(sh.code, 0, `/bin/sh ran in the image:\n${sh.stdout}${sh.stderr}`);

    // The entrypoint and the default command: `--help` is chainsmith's, the default command is the controller.
    const help = await podman(['run', '--rm', '--read-only', '--network', 'none', IMAGE, '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: chainsmith/);
    const config = JSON.parse((await podman(['image', 'inspect', '--format', '{{json .Config}}', IMAGE])).stdout) as {
      Cmd?: string[];
      User?: string;
    };
    assert.deepEqual(config.Cmd, ['controller']);
    assert.equal(config.User, `${NONROOT}:${NONROOT}`);
  });

  describe('run as the Deployment runs it, against the stack', () => {
    const name = `chainsmith-e2e-${randomSuffix()}`;
    let ns = '';
    let secretsDir = '';
    let kubeDir = '';
    let metricsPort = 0;
    let started = false;

    before(async () => {
      // (without the image, each test below fails saying how to build it)
      if (
        !(await requireImage().then(
          () => true,
          () => false,
        ))
      )
        return;
      const env = stackEnv();
      ns = await createNamespace('image');
      secretsDir = await x509SecretsDir('chainsmith-image-keys-');
      await ownForNonroot(secretsDir, 0o700);
      await ownForNonroot(join(secretsDir, 'x509.pem'), 0o600);
      // The stack's kubeconfig names its CA by a host path; the container gets one with the CA inline.
      const kubeconfig = parseYaml(await readFile(env.kubeconfig, 'utf8')) as {
        clusters: Array<{ cluster: Record<string, string> }>;
      };
      for (const { cluster } of kubeconfig.clusters) {
        if (cluster['certificate-authority']) {
          const ca = await readFile(cluster['certificate-authority']);
          delete cluster['certificate-authority'];
          cluster['certificate-authority-data'] = ca.toString('base64');
        }
      }
      kubeDir = await mkdtemp(join(tmpdir(), 'chainsmith-image-kube-'));
      await writeFile(join(kubeDir, 'config'), stringifyYaml(kubeconfig), { mode: 0o600 });
      await ownForNonroot(kubeDir, 0o700);
      await ownForNonroot(join(kubeDir, 'config'), 0o600);
      // Image signatures only, next to the image in the stack's registry (plain http on loopback).
      await writeChainsConfig(ns, { 'artifacts.taskrun.storage': 'tekton', 'artifacts.oci.storage': 'oci' });
      metricsPort = await closedPort();
      // prettier-ignore
      const run = await podman([
        'run', '--detach', '--name', name,
        '--user', `${NONROOT}:${NONROOT}`, '--read-only', '--tmpfs', '/tmp:rw,size=64m',
        '--cap-drop', 'all', '--security-opt', 'no-new-privileges',
        '--network', 'host',
        '--volume', `${secretsDir}:/etc/signing-secrets:ro`,
        '--volume', `${kubeDir}:/etc/chainsmith-kube:ro`,
        '--env', 'KUBECONFIG=/etc/chainsmith-kube/config', '--env', `SYSTEM_NAMESPACE=${ns}`,
        IMAGE,
        'controller', '--namespace', ns, '--signing-secrets-dir', '/etc/signing-secrets',
        '--leader-elect=false', '--metrics-addr', `127.0.0.1:${metricsPort}`,
      ]);
      assert.equal(run.code, 0, `podman run failed:\n${run.stdout}${run.stderr}`);
      started = true;
    });

    after(async () => {
      if (started) {
        const logs = await podman(['logs', '--tail', '30', name]);
        if (logs.stdout || logs.stderr) console.log(`container ${name}, last log lines:\n${logs.stdout}${logs.stderr}`);
        await podman(['rm', '--force', '--time', '10', name]);
      }
      for (const dir of [secretsDir, kubeDir]) if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('answers /readyz, signs a completed TaskRun, and cosign verifies the image signature', async () => {
      await requireImage();
      const readyz = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined);
          return res?.status === 200 ? res : undefined;
        },
        { timeoutMs: 60_000, description: `/readyz 200 from the container on 127.0.0.1:${metricsPort}` },
      );
      assert.equal(readyz.status, 200);

      const image = await pushRandomImage(`${stackEnv().registry}/image-e2e/app`);
      const trName = await completeImageTaskRun(ns, image);
      const tr = await waitFor(
        async () => {
          const r = await getTaskRun(ns, trName);
          return r.metadata.annotations?.['chains.tekton.dev/signed'] === 'true' ? r : undefined;
        },
        { timeoutMs: 60_000, description: `chains.tekton.dev/signed=true on TaskRun ${ns}/${trName}` },
      );
      const annotations = tr.metadata.annotations ?? {};
      const uid = tr.metadata.uid!;
      assert.ok(annotations[`chains.tekton.dev/signature-taskrun-${uid}`], 'the provenance signature annotation');
      assert.ok(annotations[`chains.tekton.dev/payload-taskrun-${uid}`], 'the provenance payload annotation');

      // prettier-ignore
      const verified = await cosign([
        'verify', '--key', join(secretsDir, 'cosign.pub'), '--insecure-ignore-tlog', '--allow-http-registry',
        `${image.repository}@${image.digest}`,
      ]);
      assert.equal(verified.code, 0, verified.out);
      assert.match(verified.out, new RegExp(`"docker-manifest-digest":"${image.digest}"`));
    });

    test('the container runs as uid 65532 on a read-only root filesystem', async () => {
      await requireImage();
      const inspect = JSON.parse((await podman(['container', 'inspect', name])).stdout) as Array<{
        State: { Running: boolean; Pid: number };
        Config: { User: string };
        HostConfig: { ReadonlyRootfs: boolean };
      }>;
      const c = inspect[0]!;
      assert.equal(c.State.Running, true);
      assert.equal(c.Config.User, `${NONROOT}:${NONROOT}`);
      assert.equal(c.HostConfig.ReadonlyRootfs, true);
      // The controller process itself, as the kernel sees it (rootful podman: no user namespace remapping).
      const status = await readFile(`/proc/${c.State.Pid}/status`, 'utf8');
      assert.match(status, new RegExp(`^Uid:\\s+${NONROOT}\\s+${NONROOT}\\s+${NONROOT}\\s+${NONROOT}$`, 'm'));
      assert.match(status, /^CapEff:\s+0+$/m, 'no effective capabilities');
      // Writing anywhere but /tmp fails; /tmp (the Deployment's emptyDir) works.
      const write = await podman([
        'exec',
        name,
        '/nodejs/bin/node',
        '-e',
        "const fs = require('fs'); fs.writeFileSync('/tmp/ok', 'x');" +
          "try { fs.writeFileSync('/app/x', 'x'); console.log('wrote /app/x'); } catch (e) { console.log(e.code); }",
      ]);
      assert.equal(write.code, 0, write.stderr);
      assert.equal(write.stdout.trim(), 'EROFS');
    });
  });
});
