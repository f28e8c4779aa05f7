// The syntax tree of a resource expression; every node keeps its source span for error messages.
import type { CompiledRegex } from "./regex.js";

/** Binary operators that evaluate both sides generically (=~ and !~ have their own node). */
export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "&&" | "||" | "??";

interface Base {
  start: number;
  end: number;
}

/** A syntax-tree node; `start`/`end` are source offsets for error positions. */
export type Node =
  | (Base & { type: "literal"; value: number | string | boolean | null })
  | (Base & { type: "list"; items: Node[] })
  | (Base & { type: "ident"; name: string })
  | (Base & { type: "member"; object: Node; name: string; nameStart: number })
  | (Base & { type: "index"; object: Node; index: Node })
  | (Base & { type: "call"; name: string; nameStart: number; args: Node[]; method: boolean })
  | (Base & { type: "lambda"; param: string; body: Node })
  | (Base & { type: "unary"; op: "!" | "-"; operand: Node })
  | (Base & { type: "binary"; op: BinaryOp; left: Node; right: Node; opStart: number })
  | (Base & { type: "match"; negate: boolean; subject: Node; pattern: string; regex: CompiledRegex; opStart: number })
  | (Base & { type: "conditional"; test: Node; then: Node; otherwise: Node });
