/**
 * The CEL layer of the policy engine: compile an expression once, evaluate it many times against a
 * request, `now` and context objects, within a cost limit. Pure code: no Kubernetes client.
 */
export { compileExpression, type CompileOptions, type CompileResult, type SourceError } from './compile.ts';
export { typeMismatches, type ParameterComparison } from './comparisons.ts';
export { evaluate, type EvaluationError, type EvaluationResult } from './evaluate.ts';
export { prepareBindings, PreparedBindings, type Bindings } from './bindings.ts';
export { celValueFromJson, type Conversion } from './json-value.ts';
export { Expectation, type CompiledExpression, type ExpectedValue } from './program.ts';
export { BUILTIN_VARIABLES, variableNameProblem } from './variables.ts';
export * from './limits.ts';
