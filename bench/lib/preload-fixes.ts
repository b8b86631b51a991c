/**
 * `GREENLIGHT_BENCH_FIXES=F1,F2 node --import ./bench/lib/preload-fixes.ts src/cli/main.ts controller …`:
 * the unchanged controller with the fixes proposed in docs/benchmarks.md (see fixes.ts).
 */
import { applyFixes, parseFixes } from './fixes.ts';

await applyFixes(parseFixes(process.env['GREENLIGHT_BENCH_FIXES']));
