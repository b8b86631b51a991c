import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageNodeFlags, imageNodeOptions, imageRuntime } from './build.ts';

describe('imageNodeOptions', () => {
  const directory = mkdtempSync(join(tmpdir(), 'greenlight-build-test-'));
  let written = 0;
  const dockerfile = (lines: readonly string[]): string => {
    const file = join(directory, `Dockerfile.${String(written++)}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads NODE_OPTIONS from an ENV instruction continued over several lines', () => {
    const file = dockerfile([
      'FROM node:24',
      'ENV NODE_ENV=production \\',
      '  TZ=UTC \\',
      '  NODE_OPTIONS=--max-semi-space-size=1',
      'CMD ["controller"]',
    ]);
    expect(imageNodeOptions(file)).toBe('--max-semi-space-size=1');
  });

  it('keeps the spaces of a double- or single-quoted value, also with CRLF line ends', () => {
    expect(
      imageNodeOptions(
        dockerfile(['FROM node:24', 'env NODE_OPTIONS="--max-old-space-size=256 --trace-gc"']),
      ),
    ).toBe('--max-old-space-size=256 --trace-gc');
    const crlf = join(directory, 'Dockerfile.crlf');
    writeFileSync(
      crlf,
      "FROM node:24\r\nENV A=1 \\\r\n  NODE_OPTIONS='--enable-source-maps --no-warnings'\r\n",
    );
    expect(imageNodeOptions(crlf)).toBe('--enable-source-maps --no-warnings');
  });

  it('takes the value of the last ENV that sets it (the run stage)', () => {
    const file = dockerfile([
      'FROM node:24 AS build',
      'ENV NODE_OPTIONS=--max-old-space-size=4096',
      'RUN npm run build',
      'FROM gcr.io/distroless/nodejs24-debian12',
      'ENV NODE_OPTIONS=--max-semi-space-size=2',
    ]);
    expect(imageNodeOptions(file)).toBe('--max-semi-space-size=2');
  });

  it('ignores NODE_OPTIONS outside ENV instructions', () => {
    const file = dockerfile([
      'FROM node:24',
      '# ENV NODE_OPTIONS=--commented-out',
      'RUN NODE_OPTIONS=--max-old-space-size=4096 npm run build',
      'ENV NODE_OPTIONS=--max-semi-space-size=1',
      'LABEL note="NODE_OPTIONS=--in-a-label"',
    ]);
    expect(imageNodeOptions(file)).toBe('--max-semi-space-size=1');
  });

  it('refuses a Dockerfile whose ENV instructions do not set NODE_OPTIONS', () => {
    const file = dockerfile(['FROM node:24', 'ENV NODE_ENV=production', 'RUN NODE_OPTIONS=--x true']);
    expect(() => imageNodeOptions(file)).toThrow(/sets no NODE_OPTIONS/);
  });

  it("reads the semi-space size from the repository's own Dockerfile", () => {
    expect(imageNodeOptions()).toMatch(/^--max-semi-space-size=\d+/);
  });

  it('reads the other ENV variables and the node flags of the ENTRYPOINT', () => {
    const file = dockerfile([
      'FROM node:24 AS build',
      'RUN npm run build',
      'FROM gcr.io/distroless/nodejs24-debian12',
      'ENV NODE_ENV=production \\',
      '  NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=384" \\',
      '  MALLOC_ARENA_MAX=2',
      'ENTRYPOINT ["/nodejs/bin/node", "--max-opt=2", "--single-threaded-gc", "/app/bundle/main.mjs"]',
      'CMD ["controller"]',
    ]);
    expect(imageRuntime(file)).toEqual({
      nodeOptions: '--max-semi-space-size=4 --max-old-space-size=384',
      env: { NODE_ENV: 'production', MALLOC_ARENA_MAX: '2' },
      nodeFlags: ['--max-opt=2', '--single-threaded-gc'],
    });
    expect(imageNodeFlags(dockerfile(['ENV NODE_OPTIONS=', 'ENTRYPOINT ["node", "main.mjs"]']))).toEqual([]);
  });

  it("reads the repository's own Dockerfile", () => {
    const runtime = imageRuntime();
    expect(runtime.env['MALLOC_ARENA_MAX']).toBe('2');
    expect(runtime.nodeFlags.every((flag) => flag.startsWith('--'))).toBe(true);
  });
});
