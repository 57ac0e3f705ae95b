// Turns Tekton Pipelines' CRD manifests (from the github.com/tektoncd/pipeline module) into
// v1-only CRDs: the conversion webhook they name does not run in the test stack, so every
// non-storage version is dropped and conversion set to None (on a fresh etcd only).
// Usage: node --import tsx e2e/stack/tekton-crds.ts <module-dir> <out-dir>
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const KINDS = ['task', 'taskrun', 'pipeline', 'pipelinerun'] as const;

interface CrdVersion {
  name: string;
  storage?: boolean;
}

interface Crd {
  kind?: string;
  metadata?: { name?: string };
  spec: { versions: CrdVersion[]; conversion?: unknown };
}

/** Keeps only the storage version of a CRD and removes its conversion webhook. */
function v1Only(crd: Crd): Crd {
  const versions = crd.spec.versions.filter((v) => v.storage === true);
  if (versions.length !== 1 || versions[0]?.name !== 'v1') {
    throw new Error(
      `${crd.metadata?.name ?? 'CRD'}: expected storage version v1, found ${versions.map((v) => v.name).join(',') || 'none'}`,
    );
  }
  return { ...crd, spec: { ...crd.spec, versions, conversion: { strategy: 'None' } } };
}

function main(argv: string[]): void {
  const [moduleDir, outDir] = argv;
  if (!moduleDir || !outDir) throw new Error('usage: tekton-crds.ts <module-dir> <out-dir>');
  mkdirSync(outDir, { recursive: true });
  for (const kind of KINDS) {
    const file = join(moduleDir, 'config', '300-crds', `300-${kind}.yaml`);
    const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Crd | null);
    const crd = docs.find((d) => d?.kind === 'CustomResourceDefinition');
    if (!crd) throw new Error(`${file}: no CustomResourceDefinition in it`);
    writeFileSync(join(outDir, `${kind}.json`), JSON.stringify(v1Only(crd)) + '\n');
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`tekton-crds: ${(err as Error).message}`);
  process.exit(1);
}
