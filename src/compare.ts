/**
 * Orders strings by their UTF-16 code units, as `<` does: the same order as `localeCompare` for the
 * names the controller sorts (Kubernetes names: lower-case letters, digits, `-`, `.`, and `/`
 * between a namespace and a name), and for any strings a total, locale-independent one. Not
 * `localeCompare`: that builds an ICU collator, which pages in the collation data of the `node`
 * executable (about 2 MiB of RSS) and costs far more per comparison, on the path of every decision
 * (docs/benchmarks.md, F12).
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
