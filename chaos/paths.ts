import { fileURLToPath } from 'node:url';

/** `greenlight` as the image runs it, from source. */
export const CLI_ENTRY = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
