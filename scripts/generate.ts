// Writes every generated artefact from its TypeScript source of truth. `npm test` fails when a
// generated file differs from what this script would write (src/api/v1alpha1/crds.test.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMISSION_FILE, renderAdmissionYaml } from '../src/api/v1alpha1/admission.ts';
import { CRDS, crdFileName, renderCrdYaml } from '../src/api/v1alpha1/crds.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

for (const crd of CRDS) {
  const path = join(root, crdFileName(crd));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, renderCrdYaml(crd));
  console.log(`wrote ${crdFileName(crd)}`);
}

await mkdir(join(root, dirname(ADMISSION_FILE)), { recursive: true });
await writeFile(join(root, ADMISSION_FILE), renderAdmissionYaml());
console.log(`wrote ${ADMISSION_FILE}`);
