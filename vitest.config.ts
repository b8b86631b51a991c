import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        // Pure code: no cluster, no network.
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts', 'chaos/**/*.test.ts'],
        },
      },
      {
        // Against one real control plane (etcd + kube-apiserver) started once per run; each test
        // works in its own namespace, so files run in parallel.
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          sequence: { concurrent: true },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
