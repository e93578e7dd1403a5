// Parses Julia files with tree-sitter-julia and prints, as JSON, what the tests
// check (tests/julia_syntax_test.py, tests/julia_api_test.py): the syntax errors
// (ERROR and MISSING nodes), and the definitions, exports, imports, includes,
// uses of ENV and ccalls of each file.
//   node ast.js FILE...
'use strict';
const fs = require('fs');
const Parser = require('tree-sitter');
const Julia = require('tree-sitter-julia');

const parser = new Parser();
parser.setLanguage(Julia);

// The parser takes a string of at most 32 KiB at once: feed it in pieces.
function parse(text) {
  return parser.parse((index) => text.slice(index, index + 4096));
}

const line = (node) => node.startPosition.row + 1;
const named = (node) => node.namedChildren;

function syntaxErrors(root) {
  const out = [];
  (function walk(node) {
    if (node.type === 'ERROR' || node.isMissing) {
      out.push({
        line: line(node),
        column: node.startPosition.column + 1,
        kind: node.isMissing ? 'MISSING ' + node.type : 'ERROR',
        text: node.text.slice(0, 60),
      });
    }
    if (node.hasError || node.isMissing) node.children.forEach(walk);
  })(root);
  return out;
}

// The call of a definition's signature: f(x) in `f(x) where {T} ::R`.
function signatureCall(node) {
  while (node && node.type !== 'call_expression') {
    if (['where_expression', 'typed_expression', 'signature'].includes(node.type)) {
      node = node.namedChildren[0];
    } else {
      return null;
    }
  }
  return node;
}

// One positional parameter: its type (null when untyped), vararg, default.
function parameter(node) {
  let p = { type: null, vararg: false, default: false };
  if (node.type === 'named_argument') {           // x::T = v, before the ';'
    p = parameter(node.namedChildren[0]);
    p.default = true;
    return p;
  }
  if (node.type === 'splat_expression') {
    p = parameter(node.namedChildren[0]);
    p.vararg = true;
    return p;
  }
  if (node.type === 'typed_expression') p.type = node.namedChildren[1].text;
  if (node.type === 'unary_typed_expression') p.type = node.namedChildren[0].text;
  return p;
}

function functionInfo(call, where) {
  const head = call.namedChildren[0];
  const args = call.namedChildren.find((c) => c.type === 'argument_list');
  const params = [];
  const keywords = [];
  let afterSemicolon = false;
  for (const c of args ? args.children : []) {
    if (c.type === ';') { afterSemicolon = true; continue; }
    if (!c.isNamed) continue;
    if (afterSemicolon) {
      const k = c.type === 'named_argument' ? c.namedChildren[0] : c;
      keywords.push((k.type === 'typed_expression' ? k.namedChildren[0] : k).text);
    } else {
      params.push(parameter(c));
    }
  }
  let name = head.text;
  if (head.type === 'parametrized_type_expression') name = head.namedChildren[0].text;
  return { name, line: line(call), params, keywords, where };
}

function structInfo(node, out) {
  const headNode = node.namedChildren.find((c) => c.type === 'type_head');
  let nameNode = headNode.namedChildren[0];
  let supertype = null;
  if (nameNode.type === 'binary_expression') {
    supertype = nameNode.namedChildren[2].text;
    nameNode = nameNode.namedChildren[0];
  }
  const name = nameNode.type === 'parametrized_type_expression'
    ? nameNode.namedChildren[0].text : nameNode.text;
  const fields = [];
  const news = [];
  for (const c of node.namedChildren) {
    if (c === headNode) continue;
    if (c.type === 'typed_expression') fields.push({ name: c.namedChildren[0].text, type: c.namedChildren[1].text });
    else if (c.type === 'identifier') fields.push({ name: c.text, type: null });
    else {
      definitions(c, out, name);                   // inner constructors
      (function findNew(n) {
        if (n.type === 'call_expression') {
          const h = n.namedChildren[0];
          const callee = h.type === 'parametrized_type_expression' ? h.namedChildren[0].text : h.text;
          if (callee === 'new') {
            const args = n.namedChildren.find((a) => a.type === 'argument_list');
            news.push({ line: line(n), args: args ? args.namedChildren.length : 0 });
          }
        }
        n.namedChildren.forEach(findNew);
      })(c);
    }
  }
  out.structs.push({ name, line: line(node), supertype, fields, news,
                     mutable: node.children.some((c) => c.type === 'mutable') });
}

// Definitions at the top level of a file or module (and inside macro calls such
// as @inline, and `if`/`begin` blocks at that level).
function definitions(node, out, inStruct) {
  switch (node.type) {
    case 'source_file':
    case 'block':
    case 'if_statement':
    case 'else_clause':
    case 'macro_argument_list':
    case 'macrocall_expression':
      node.namedChildren.forEach((c) => definitions(c, out, inStruct));
      return;
    case 'module_definition':
      out.modules.push({ name: node.namedChildren[0].text, line: line(node) });
      node.namedChildren.slice(1).forEach((c) => definitions(c, out, inStruct));
      return;
    case 'function_definition': {
      const sig = node.namedChildren.find((c) => c.type === 'signature');
      const call = signatureCall(sig);
      if (call) out.functions.push(functionInfo(call, inStruct || null));
      else if (sig) out.functions.push({ name: sig.text, line: line(node), params: [], keywords: [], where: inStruct || null });
      return;
    }
    case 'assignment': {
      const lhs = node.namedChildren[0];
      const call = signatureCall(lhs);
      if (call && lhs.type !== 'identifier') {
        out.functions.push(functionInfo(call, inStruct || null));
      } else if (lhs.type === 'identifier') {
        out.globals.push({ name: lhs.text, line: line(node) });
      }
      return;
    }
    case 'const_statement': {
      const a = node.namedChildren[0];
      let lhs = a.namedChildren[0];
      if (lhs.type === 'parametrized_type_expression') lhs = lhs.namedChildren[0];
      out.consts.push({ name: lhs.text, line: line(node), value: a.namedChildren[a.namedChildren.length - 1].text });
      return;
    }
    case 'struct_definition':
      structInfo(node, out);
      return;
    case 'abstract_definition': {
      const head = node.namedChildren.find((c) => c.type === 'type_head');
      out.structs.push({ name: head.namedChildren[0].text, line: line(node), abstract: true, fields: [], news: [] });
      return;
    }
    case 'export_statement':
      node.namedChildren.forEach((c) => out.exports.push(c.text));
      return;
    case 'using_statement':
    case 'import_statement':
      for (const c of node.namedChildren) {
        const first = c.type === 'selected_import' ? c.namedChildren[0] : c;
        out.imports.push({ name: first.text.split('.')[0], line: line(node) });
      }
      return;
    case 'call_expression':
      if (node.namedChildren[0].text === 'include') {
        const arg = node.namedChildren[1].namedChildren[0];
        out.includes.push(arg.text.replace(/^"|"$/g, ''));
      }
      return;
    default:
  }
}

// Each use of ENV, and each ccall, with the top-level function it is in (null: at
// the top level, which runs when the package is precompiled).
function usesAndCalls(root, out) {
  (function walk(node, fn) {
    if (node.type === 'function_definition') {
      const call = signatureCall(node.namedChildren.find((c) => c.type === 'signature'));
      fn = fn || (call ? call.namedChildren[0].text : '?');
    } else if (node.type === 'assignment' && !fn) {
      const call = signatureCall(node.namedChildren[0]);
      if (call && node.namedChildren[0].type !== 'identifier') fn = call.namedChildren[0].text;
    } else if (node.type === 'arrow_function_expression' && !fn) {
      fn = '->';
    }
    if (node.type === 'identifier' && node.text === 'ENV') out.env.push({ line: line(node), function: fn });
    if (node.type === 'call_expression' && node.namedChildren[0].text === 'ccall') {
      out.ccalls.push({ line: line(node), function: fn });
    }
    node.namedChildren.forEach((c) => walk(c, fn));
  })(root, null);
}

const result = [];
for (const path of process.argv.slice(2)) {
  const text = fs.readFileSync(path, 'utf8');
  const tree = parse(text);
  const out = { path, errors: syntaxErrors(tree.rootNode), modules: [], functions: [],
                structs: [], consts: [], globals: [], exports: [], imports: [],
                includes: [], env: [], ccalls: [] };
  definitions(tree.rootNode, out, null);
  usesAndCalls(tree.rootNode, out);
  result.push(out);
}
process.stdout.write(JSON.stringify(result, null, 1) + '\n');
