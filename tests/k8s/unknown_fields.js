// Fields no schema declares. The packages' JSON schemas accept any extra property, but the API
// server refuses one under strict field validation (kubectl apply's default), and a misspelt
// optional field would otherwise pass unseen. Their TypeScript declarations (.d.ts) list every
// field of every type, so this walks an object along them and names what none declares.
"use strict";

const fs = require("fs");
const path = require("path");

// --- A reader of the declarations' types ---------------------------------------------------

const TOKEN = /\s*("(?:[^"\\]|\\.)*"|[A-Za-z_$][\w$]*|-?\d+(?:\.\d+)?|=>|[[\]{}<>():;?|,&=.])/y;

function tokenize(text) {
  const tokens = [];
  TOKEN.lastIndex = 0;
  let match;
  while (TOKEN.lastIndex < text.length && (match = TOKEN.exec(text)) !== null) {
    tokens.push(match[1]);
  }
  return tokens;
}

// Types: {ref: name}, {array: type}, {props: Map, index: type|null}, {union: [types]}, or
// {leaf: true} for what holds no fields (strings, numbers, literals, any).
class Parser {
  constructor(tokens) {
    this.tokens = tokens;
    this.at = 0;
  }
  peek() {
    return this.tokens[this.at];
  }
  take(expected) {
    const token = this.tokens[this.at++];
    if (expected !== undefined && token !== expected) {
      throw new Error(`expected ${expected}, found ${token}`);
    }
    return token;
  }
  type() {
    const parts = [this.member()];
    while (this.peek() === "|") {
      this.take();
      parts.push(this.member());
    }
    return parts.length === 1 ? parts[0] : {union: parts};
  }
  member() {
    let type = this.primary();
    while (this.peek() === "[") {  // T[] or T["field"]
      this.take();
      if (this.peek() === "]") {
        this.take();
        type = {array: type};
      } else {
        this.take();
        this.take("]");
        type = {leaf: true};
      }
    }
    return type;
  }
  primary() {
    const token = this.take();
    if (token === "{") return this.object();
    if (token === "(") {
      const inner = this.type();
      this.take(")");
      return inner;
    }
    if (/^[A-Za-z_$]/.test(token)) {
      let name = token;
      while (this.peek() === ".") name += this.take() + this.take();
      if (this.peek() === "<") {
        this.take();
        const args = [this.type()];
        while (this.peek() === ",") {
          this.take();
          args.push(this.type());
        }
        this.take(">");
        return name === "Array" ? {array: args[0]} : {leaf: true};
      }
      return /^I[A-Z]/.test(name) ? {ref: name} : {leaf: true};
    }
    return {leaf: true};  // a string or number literal
  }
  // After "{": "name"?: type; ... and [key: string]: type; up to "}".
  object() {
    const props = new Map();
    let index = null;
    while (this.peek() !== "}") {
      if (this.peek() === "[") {
        this.take();
        this.take();
        this.take(":");
        this.type();
        this.take("]");
        this.take(":");
        index = this.type();
      } else {
        let name = this.take();
        if (name.startsWith("\"")) name = JSON.parse(name);
        if (this.peek() === "?") this.take();
        this.take(":");
        props.set(name, this.type());
      }
      if (this.peek() === ";" || this.peek() === ",") this.take();
    }
    this.take("}");
    return {props, index};
  }
}

// --- The declarations, by file --------------------------------------------------------------

const files = new Map();

// A declaration file: what it imports (name -> file) and the interfaces it declares.
function declarations(file) {
  if (files.has(file)) return files.get(file);
  const text = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const imports = new Map();
  for (const [, names, from] of text.matchAll(/import (?:type )?\{([^}]*)\} from "([^"]+)"/g)) {
    for (const name of names.split(",").map((n) => n.trim()).filter((n) => n)) {
      imports.set(name.split(/\s+as\s+/).pop(), declarationFile(from, path.dirname(file)));
    }
  }
  const interfaces = new Map();
  const head = /export interface (\w+)(?: extends ([^{]+))? \{/g;
  let match;
  while ((match = head.exec(text)) !== null) {
    const parser = new Parser(tokenize(text.slice(match.index + match[0].length)));
    const type = parser.object();
    type.extends = (match[2] || "").split(",").map((n) => n.trim()).filter((n) => n);
    interfaces.set(match[1], type);
  }
  const found = {imports, interfaces, main: interfaces.keys().next().value};
  files.set(file, found);
  return found;
}

// The .d.ts beside the module a specifier names, found as node finds packages (the CRD packages
// export ES modules only, which require.resolve refuses).
function declarationFile(specifier, fromDir) {
  const base = specifier.startsWith(".") ? path.resolve(fromDir, specifier) :
                                           packagePath(specifier, fromDir);
  return base.replace(/\.(c|m)?js$/, "") + ".d.ts";
}

function packagePath(specifier, fromDir) {
  const parts = specifier.split("/");
  const name = parts.slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
  const rest = parts.slice(name.split("/").length).join("/");
  for (let dir = fromDir;; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(candidate)) return path.join(candidate, rest);
    if (path.dirname(dir) === dir) throw new Error(`package ${name} not found from ${fromDir}`);
  }
}

// The fields of a named type, seen from `file`: {props, index} with those of what it extends.
function resolve(name, file) {
  const here = declarations(file);
  if (name === "TypeMeta")
    return {props: new Map([["apiVersion", {leaf: true}], ["kind", {leaf: true}]]), index: null};
  let target = here.interfaces.has(name) ? {file, name} : null;
  if (!target && here.imports.has(name)) {
    const other = here.imports.get(name);
    if (!fs.existsSync(other)) return {leaf: true};
    target = {file: other, name: declarations(other).main};
  }
  if (!target || !target.name) return {leaf: true};
  const type = declarations(target.file).interfaces.get(target.name);
  const props = new Map(type.props);
  let index = type.index;
  for (const parent of type.extends) {
    const inherited = resolve(parent, target.file);
    for (const [key, value] of inherited.props || []) props.set(key, value);
    index = index || inherited.index || null;
  }
  return {props, index, file: target.file};
}

// --- The walk -----------------------------------------------------------------------------

function walk(value, type, file, where, found) {
  if (type.ref) {
    const resolved = resolve(type.ref, file);
    return resolved.leaf ? undefined : walk(value, resolved, resolved.file, where, found);
  }
  if (type.array) {
    if (Array.isArray(value))
      value.forEach((v, i) => walk(v, type.array, file, `${where}[${i}]`, found));
    return;
  }
  if (type.union) {
    // The first member under which nothing is unknown; if none, what the first object member says.
    const candidates = type.union.filter((t) => !t.leaf);
    for (const candidate of candidates) {
      const mine = [];
      walk(value, candidate, file, where, mine);
      if (mine.length === 0) return;
    }
    if (candidates.length) walk(value, candidates[0], file, where, found);
    return;
  }
  if (!type.props || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const at = where ? `${where}.${key}` : key;
    if (type.props.has(key)) {
      walk(child, type.props.get(key), file, at, found);
    } else if (type.index) {
      walk(child, type.index, file, at, found);
    } else {
      found.push(`unknown field ${at}`);
    }
  }
}

// The unknown fields of `object`, whose model was loaded from module `specifier`.
function unknownFields(object, specifier, kind) {
  const file = declarationFile(specifier, __dirname);
  const found = [];
  walk(object, {ref: `I${kind}`}, file, "", found);
  return found;
}

module.exports = {unknownFields};
