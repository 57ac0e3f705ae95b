// The container image, assembled without a Docker engine (none runs here): this test interprets the
// Dockerfile's own WORKDIR / COPY / RUN / ENTRYPOINT lines stage by stage in temporary directories on
// this machine, honouring .dockerignore, and then runs the entrypoint from the final stage's file tree.
// It catches what reading the Dockerfile cannot: a runtime import of a dev dependency, a build that
// needs files the build context leaves out, an entrypoint path that `npm run build` does not produce.
// What it cannot check is the base images themselves (pulled from registries this machine cannot reach).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/index.js';

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  name?: string;
  dir: string;
  workdir: string;
  entrypoint?: string[];
  cmd?: string[];
  instructions: Instruction[];
}

function parseDockerfile(text: string, root: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!op || args === undefined) continue;
    if (op.toUpperCase() === 'FROM') {
      const name = /\bAS\s+(\S+)/i.exec(args)?.[1];
      const dir = join(root, `stage-${stages.length}`);
      mkdirSync(dir);
      stages.push({ ...(name ? { name } : {}), dir, workdir: '/', instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeout = 600_000,
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout, maxBuffer: 64 << 20, ...(env ? { env } : {}) }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Copies a build-context path into a stage, skipping top-level names .dockerignore excludes. */
function copyFromContext(src: string, dest: string, ignored: Set<string>): void {
  const top = src.split('/')[0]!;
  if (ignored.has(top)) throw new Error(`COPY ${src}: excluded by .dockerignore, so the image build would fail`);
  cpSync(join(REPO_ROOT, src), dest, {
    recursive: true,
    filter: (p) => !p.split('/').some((part) => part === 'node_modules' && !src.includes('node_modules')),
  });
}

/** Executes the Dockerfile's stages in order; returns the final stage. */
async function buildStages(root: string): Promise<Stage> {
  const stages = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'), root);
  const ignored = new Set(
    readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  );
  const inStage = (s: Stage, p: string) => join(s.dir, p.startsWith('/') ? p : join(s.workdir, p));
  for (const stage of stages) {
    for (const { op, args } of stage.instructions) {
      if (op === 'WORKDIR') {
        stage.workdir = args;
        mkdirSync(inStage(stage, '.'), { recursive: true });
      } else if (op === 'COPY') {
        const parts = args.split(/\s+/);
        const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
        const paths = parts.filter((p) => !p.startsWith('--'));
        const dest = paths.pop()!;
        for (const src of paths) {
          const target =
            dest.endsWith('/') || paths.length > 1
              ? join(inStage(stage, dest), src.split('/').pop()!)
              : inStage(stage, dest);
          if (from) {
            const source = stages.find((s) => s.name === from);
            assert.ok(source, `COPY --from=${from}: no such stage`);
            cpSync(inStage(source, src), target, { recursive: true });
          } else {
            copyFromContext(src, target, ignored);
          }
        }
      } else if (op === 'RUN') {
        // npm ci shares the npm cache with the other engineers' installs: serialise like they do.
        // prefer-offline: reuse the npm cache that `npm ci` in this checkout filled (a Docker build starts empty).
        const env = { ...process.env, npm_config_prefer_offline: 'true' };
        const r = await run(
          'flock',
          ['/tmp/chainsmith-npm.lock', 'bash', '-euo', 'pipefail', '-c', args],
          inStage(stage, '.'),
          600_000,
          env,
        );
        assert.equal(r.code, 0, `RUN ${args} failed in stage ${stage.name ?? '(final)'}:\n${r.stderr.slice(-2000)}`);
      } else if (op === 'ENTRYPOINT') {
        stage.entrypoint = JSON.parse(args) as string[];
      } else if (op === 'CMD') {
        stage.cmd = JSON.parse(args) as string[];
      }
    }
  }
  return stages.at(-1)!;
}

// Two `npm ci` runs and a full `tsc` build: minutes on a loaded 2-core machine, hence its own time limit.
test(
  'the image built from the Dockerfile runs chainsmith from production dependencies only',
  { timeout: 15 * 60_000 },
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'chainsmith-image-'));
    try {
      const final = await buildStages(root);
      const app = join(final.dir, final.workdir);
      // Only what the runtime stage copies: compiled code, production node_modules, package.json.
      assert.deepEqual(readdirSync(app).sort(), ['dist', 'node_modules', 'package.json']);
      assert.ok(!existsSync(join(app, 'src')), 'no TypeScript sources in the image');
      // package-lock.json marks packages needed only for development `"dev": true` (typescript, tsx, esbuild…).
      const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { dev?: boolean }>;
      };
      const devOnly = Object.entries(lock.packages).filter(
        ([p, meta]) => p.startsWith('node_modules/') && meta.dev === true,
      );
      assert.ok(
        devOnly.some(([p]) => p === 'node_modules/typescript'),
        'the lockfile marks typescript dev-only',
      );
      for (const [path] of devOnly) assert.ok(!existsSync(join(app, path)), `dev-only ${path} is not in the image`);
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      for (const dep of Object.keys(pkg.dependencies)) {
        assert.ok(existsSync(join(app, 'node_modules', dep, 'package.json')), `dependency ${dep} is in the image`);
      }

      // The entrypoint, with this machine's node standing in for the image's /nodejs/bin/node.
      const [node, script, ...rest] = final.entrypoint!;
      assert.match(node!, /(^|\/)node$/);
      const exec = (...args: string[]) => run(process.execPath, [script!, ...rest, ...args], app, 60_000);
      const help = await exec('--help');
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /Usage: chainsmith/);
      const controller = await exec(...final.cmd!, '--help');
      assert.equal(controller.code, 0, controller.stderr);
      assert.match(controller.stdout, /--signing-secrets-dir/, 'the default command is the controller');

      // Every compiled module loads with production dependencies only (e.g. the lazily imported KMS signers).
      const modules = (readdirSync(join(app, 'dist/src'), { recursive: true }) as string[]).filter((f) =>
        f.endsWith('.js'),
      );
      assert.ok(modules.length > 20, `compiled modules found: ${modules.length}`);
      const load = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `for (const m of ${JSON.stringify(modules)}) { try { await import('./dist/src/' + m); } catch (e) { console.error(m + ': ' + e.message); process.exitCode = 1; } }`,
        ],
        app,
        120_000,
      );
      assert.equal(load.code, 0, `modules that fail to load in the image:\n${load.stderr}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
