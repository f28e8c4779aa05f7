// Hard limits that keep hostile or accidental input from costing more than a few milliseconds.

/** Every limit of the expression language in one place (docs/expressions.md lists them). */
export const LIMITS = {
  /** Characters in one expression. */
  maxLength: 8192,
  /** Nesting of parentheses, brackets, calls and unary operators while parsing. */
  maxNesting: 64,
  /** Depth of the syntax tree (long `a + b + c ...` chains count too); bounds evaluator recursion. */
  maxTreeDepth: 200,
  /** Syntax-tree nodes in one expression. */
  maxNodes: 4000,
  /** Largest magnitude of a number literal after its unit (2^53: integers stay exact). */
  maxNumber: Number.MAX_SAFE_INTEGER,
  /** Digits in one number literal. */
  maxNumberDigits: 40,
  /** Evaluation steps (node visits, lambda calls, regex state visits) in one evaluation. */
  maxSteps: 1_000_000,
  /** Characters in a regular-expression pattern. */
  maxRegexLength: 256,
  /** States of a compiled regular expression (counted repeats are expanded). */
  maxRegexStates: 2000,
  /** Characters in a string built during evaluation (concatenation, join). */
  maxStringLength: 65_536,
  /** Elements in a list built during evaluation. */
  maxListLength: 100_000,
} as const;
