// services/<name>/service.yaml: each OMStack service's hardware requirements as expressions, loaded with
// line:column errors, and evaluated over all hosts to decide which services and features can run where.
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Scalar } from "yaml";
import { OmstackError } from "../errors.js";
import type { HostFacts } from "../probe/facts.js";
import { CONTEXT_TYPES, MATRIX_FUNCTIONS, defaultRoles, hostVars, summarizeCluster, type BundleVersions } from "./context.js";
import { compile, ExpressionError, HOST_FACTS_FIELDS, locate, type CompiledExpression, type TypeEnv } from "./expressions/index.js";
import { suggest } from "./expressions/typecheck.js";

/** A requirement or feature: which hosts qualify, and how many must. */
export interface HostRequirement {
  id: string;
  description: string;
  hosts: CompiledExpression;
  atLeast: number;
  remedy: string;
}

/** One service.yaml after validation; expressions are compiled and type-checked. */
export interface ServiceSpec {
  name: string;
  title: string;
  description: string;
  dependsOn: string[];
  requires: HostRequirement[];
  features: HostRequirement[];
  file: string;
}

/** Types service expressions are checked against: host facts plus the preflight names (roles, bundle, cluster). */
export const SERVICE_TYPES: TypeEnv = { rootFields: HOST_FACTS_FIELDS, vars: CONTEXT_TYPES, functions: MATRIX_FUNCTIONS };

const TOP_KEYS = ["name", "title", "description", "dependsOn", "requires", "features"];
const REQ_KEYS = ["id", "description", "hosts", "atLeast", "remedy"];

/** Parses and validates one service.yaml; every problem is E_SERVICE_SPEC or an ExpressionError at file:line:column. */
export function loadServiceSpec(text: string, file: string, expectedName?: string): ServiceSpec {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const at = (node: YamlNode | null | undefined, offset?: number) => {
    const pos = lc.linePos(offset ?? node?.range?.[0] ?? 0);
    return { file, line: pos.line, column: pos.col };
  };
  const fail = (msg: string, node: YamlNode | null | undefined, remedy?: string): never => {
    throw new OmstackError("E_SERVICE_SPEC", msg, { location: at(node), ...(remedy ? { remedy } : {}) });
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new OmstackError("E_SERVICE_SPEC", `YAML syntax error: ${e.message.split("\n")[0]}`, { location: { file, line: pos.line, column: pos.col } });
  }
  const root = doc.contents;
  if (!isMap(root)) return fail("a service.yaml must be a mapping with name, title, requires, ...", root);

  const fields = new Map<string, YamlNode | null>();
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (!TOP_KEYS.includes(key)) fail(`unknown key '${key}'${suggest(key, TOP_KEYS)}`, pair.key as YamlNode, `allowed keys: ${TOP_KEYS.join(", ")}`);
    fields.set(key, (pair.value as YamlNode | null) ?? null);
  }
  const str = (node: YamlNode | null | undefined, what: string, parent: YamlNode): string => {
    if (node === undefined) return fail(`missing '${what}'`, parent);
    if (!isScalar(node) || typeof node.value !== "string" || node.value.trim() === "") return fail(`'${what}' must be a non-empty string`, node);
    return node.value;
  };
  const name = str(fields.get("name"), "name", root);
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(name)) fail(`service name '${name}' must be lower-case letters, digits and '-'`, fields.get("name"));
  if (expectedName !== undefined && name !== expectedName) fail(`service name '${name}' does not match its directory '${expectedName}'`, fields.get("name"));
  const dependsNode = fields.get("dependsOn");
  const dependsOn: string[] = [];
  if (dependsNode !== undefined && dependsNode !== null) {
    if (!isSeq(dependsNode)) fail("'dependsOn' must be a list of service names", dependsNode);
    for (const item of (dependsNode as { items: YamlNode[] }).items) dependsOn.push(str(item, "dependsOn[]", dependsNode));
  }

  const list = (key: "requires" | "features"): HostRequirement[] => {
    const node = fields.get(key);
    if (node === undefined || node === null) {
      if (key === "requires") fail("missing 'requires' (use [] for a service without hardware needs)", root);
      return [];
    }
    if (!isSeq(node)) return fail(`'${key}' must be a list`, node);
    return (node.items as YamlNode[]).map((item) => requirement(item, key));
  };
  const ids = new Set<string>();
  const requirement = (item: YamlNode, key: string): HostRequirement => {
    if (!isMap(item)) return fail(`each entry of '${key}' must be a mapping with id, description, hosts, remedy`, item);
    const f = new Map<string, YamlNode | null>();
    for (const pair of item.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!REQ_KEYS.includes(k)) fail(`unknown key '${k}' in ${key}${suggest(k, REQ_KEYS)}`, pair.key as YamlNode, `allowed keys: ${REQ_KEYS.join(", ")}`);
      f.set(k, (pair.value as YamlNode | null) ?? null);
    }
    const id = str(f.get("id"), "id", item);
    if (!id.startsWith(`${name}.`)) fail(`id '${id}' must start with the service name ('${name}.')`, f.get("id"));
    if (ids.has(id)) fail(`duplicate id '${id}'`, f.get("id"));
    ids.add(id);
    const hostsNode = f.get("hosts");
    const source = str(hostsNode, "hosts", item);
    const atLeastNode = f.get("atLeast");
    let atLeast = 1;
    if (atLeastNode !== undefined && atLeastNode !== null) {
      if (!isScalar(atLeastNode) || typeof atLeastNode.value !== "number" || !Number.isInteger(atLeastNode.value) || atLeastNode.value < 1 || atLeastNode.value > 100_000) {
        fail("'atLeast' must be a whole number of hosts, 1 or more", atLeastNode);
      }
      atLeast = (atLeastNode as Scalar<number>).value;
    }
    return {
      id,
      description: str(f.get("description"), "description", item),
      hosts: compileInFile(source, hostsNode as Scalar, text, file),
      atLeast,
      remedy: str(f.get("remedy"), "remedy", item),
    };
  };

  const spec: ServiceSpec = {
    name,
    title: str(fields.get("title"), "title", root),
    description: str(fields.get("description"), "description", root),
    dependsOn,
    requires: list("requires"),
    features: list("features"),
    file,
  };
  return spec;
}

/** Compiles an expression held in a YAML scalar; errors are re-anchored to the scalar's place in the file. */
function compileInFile(source: string, node: Scalar, fileText: string, file: string): CompiledExpression {
  try {
    return compile(source, { types: SERVICE_TYPES, expect: "bool", file });
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    const start = node.range?.[0] ?? 0;
    let offset = start;
    if (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE" || node.type === "PLAIN") {
      offset = start + (node.type === "PLAIN" ? 0 : 1) + e.offset;
    } else {
      // block scalar: expression line N is file line (header + 1 + N), at the block's indentation
      const { line, column } = locate(source, e.offset);
      const afterHeader = fileText.indexOf("\n", start) + 1;
      let lineStart = afterHeader;
      for (let i = 1; i < line && lineStart > 0; i++) lineStart = fileText.indexOf("\n", lineStart) + 1;
      const indent = /^ */.exec(fileText.slice(afterHeader))?.[0].length ?? 0;
      offset = lineStart + indent + column - 1;
    }
    throw new ExpressionError(e.code as "E_EXPR_SYNTAX", e.message, fileText, { start: offset, end: offset + 1 }, { file, ...(e.remedy ? { remedy: e.remedy } : {}) });
  }
}

/** Whether a requirement or feature holds, on which hosts, and why not. */
export interface RequirementResult {
  id: string;
  description: string;
  met: boolean;
  hosts: string[];
  reason: string;
}

/** A service's verdict: enabled only if every requirement holds and every dependency is enabled. */
export interface ServiceResult {
  name: string;
  enabled: boolean;
  reason: string;
  requires: RequirementResult[];
  features: RequirementResult[];
}

/** Evaluates every service over all reachable hosts (pure). Dependencies are resolved in the given order and by name. */
export function evaluateServices(
  specs: readonly ServiceSpec[],
  facts: readonly HostFacts[],
  ctx: { bundle: BundleVersions; roles?: Readonly<Record<string, readonly string[]>>; rdmaServices?: boolean },
): ServiceResult[] {
  const cluster = summarizeCluster(facts);
  const envs = facts
    .filter((f) => f.reachable)
    .map((f) => ({ host: f.host, env: { root: f, vars: hostVars([...(ctx.roles?.[f.host] ?? defaultRoles(f))], ctx.bundle, cluster, ctx.rdmaServices ?? true), functions: MATRIX_FUNCTIONS } }));
  const judge = (r: HostRequirement): RequirementResult => {
    const hosts = envs.filter(({ env }) => r.hosts.test(env)).map((e) => e.host);
    const met = hosts.length >= r.atLeast;
    const reason = met
      ? `${hosts.length} host${hosts.length === 1 ? "" : "s"} qualify: ${hosts.slice(0, 5).join(", ")}${hosts.length > 5 ? ", …" : ""}`
      : `needs ${r.atLeast} host${r.atLeast === 1 ? "" : "s"} with ${r.description}; ${hosts.length === 0 ? "none" : `only ${hosts.join(", ")}`} qualif${hosts.length === 1 ? "ies" : "y"}. ${r.remedy}`;
    return { id: r.id, description: r.description, met, hosts, reason };
  };
  const byName = new Map<string, ServiceResult>();
  const results: ServiceResult[] = [];
  const visit = (spec: ServiceSpec, stack: string[]): ServiceResult => {
    const done = byName.get(spec.name);
    if (done) return done;
    if (stack.includes(spec.name)) {
      throw new OmstackError("E_SERVICE_SPEC", `services depend on each other in a cycle: ${[...stack, spec.name].join(" → ")}`, { location: { file: spec.file, line: 1, column: 1 } });
    }
    const deps = spec.dependsOn.map((d) => {
      const dep = specs.find((s) => s.name === d);
      if (!dep) throw new OmstackError("E_SERVICE_SPEC", `service ${spec.name} depends on unknown service '${d}'${suggest(d, specs.map((s) => s.name))}`, { location: { file: spec.file, line: 1, column: 1 } });
      return visit(dep, [...stack, spec.name]);
    });
    const requires = spec.requires.map(judge);
    const features = spec.features.map(judge);
    const missingDep = deps.find((d) => !d.enabled);
    const unmet = requires.find((r) => !r.met);
    const enabled = !missingDep && !unmet;
    const reason = missingDep ? `disabled: it needs ${missingDep.name}, which is disabled` : unmet ? `disabled: ${unmet.reason}` : requires.length === 0 ? "enabled: no hardware requirements" : `enabled: ${requires.map((r) => r.reason).join("; ")}`;
    const result: ServiceResult = { name: spec.name, enabled, reason, requires, features: enabled ? features : features.map((f) => ({ ...f, met: false, hosts: [], reason: "service disabled" })) };
    byName.set(spec.name, result);
    return result;
  };
  for (const s of specs) results.push(visit(s, []));
  return results;
}
