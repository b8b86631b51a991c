import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ADMISSION_FILE,
  MUTATING_ADMISSION_FILE,
  renderAdmissionYaml,
  renderMutatingAdmissionYaml,
} from './admission.ts';
import { CRDS, crdFileName, renderCrdYaml, type OpenApiSchema } from './crds.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function* walk(schema: unknown, path: string): Generator<[string, OpenApiSchema]> {
  if (!schema || typeof schema !== 'object') return;
  const node = schema as OpenApiSchema;
  yield [path, node];
  const properties = (node['properties'] ?? {}) as Record<string, unknown>;
  for (const [name, child] of Object.entries(properties)) yield* walk(child, `${path}.${name}`);
  if (node['items']) yield* walk(node['items'], `${path}[]`);
  if (node['additionalProperties'] && typeof node['additionalProperties'] === 'object')
    yield* walk(node['additionalProperties'], `${path}{}`);
}

describe.each(CRDS.map((crd) => [crd.metadata.name, crd] as const))('the %s CRD', (_name, crd) => {
  it('is generated: crds/ holds exactly what `npm run generate` writes (run it after changing src/api)', async () => {
    const onDisk = await readFile(join(root, crdFileName(crd)), 'utf8');
    expect(onDisk).toBe(renderCrdYaml(crd));
  });

  it('has a structural schema with a type and a description on every field', () => {
    const schema = crd.spec.versions[0]?.schema.openAPIV3Schema;
    const problems: string[] = [];
    for (const [path, node] of walk(schema, '')) {
      if (node['additionalProperties'] === false) problems.push(`${path}: additionalProperties: false`);
      if (!node['type']) problems.push(`${path}: no type`);
      const isRootMeta = ['.metadata', '.apiVersion', '.kind'].includes(path);
      const isListItem = path.endsWith('[]') || path.endsWith('{}');
      if (!node['description'] && !isRootMeta && !isListItem && path !== '')
        problems.push(`${path}: no description`);
    }
    expect(problems).toEqual([]);
  });
});

describe('the admission policies', () => {
  it('are generated: config/ holds exactly what `npm run generate` writes', async () => {
    expect(await readFile(join(root, ADMISSION_FILE), 'utf8')).toBe(renderAdmissionYaml());
    expect(await readFile(join(root, MUTATING_ADMISSION_FILE), 'utf8')).toBe(renderMutatingAdmissionYaml());
  });
});
