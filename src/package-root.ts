import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of Greenlight's package.json, found by walking up from this module: the same from the
 * TypeScript sources (src/), the compiled package (dist/src/) and an npm install.
 */
export const PACKAGE_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('cannot find the greenlight package root (no package.json above this module)');
    dir = parent;
  }
  return dir;
})();

/** A file or folder shipped with the package (crds/, config/, examples/, hack/). */
export function packagePath(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments);
}
