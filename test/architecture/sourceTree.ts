/**
 * The product's source as the TypeScript compiler parses it: every file under src/, its imports
 * (value and type-only, static, re-exports and dynamic `import()`), and its functions with their
 * line counts. The architecture tests read this instead of grepping, so a multi-line import, an
 * `export … from` or an `import type` is never missed and a string that merely looks like an
 * import is never counted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SRC = join(ROOT, 'src');

export interface ImportEdge {
  /** As written: `../shared/clock.js`, `node:fs`, `mqtt`. */
  readonly specifier: string;
  /** For a relative import, the imported file relative to the repository (`src/shared/clock.ts`). */
  readonly target: string | undefined;
  readonly typeOnly: boolean;
  readonly line: number;
}

export interface FunctionInfo {
  /** `createBridge`, `MqttConnection.connect`, `<arrow in startEmulator>`… */
  readonly name: string;
  readonly line: number;
  /** Lines spanned by the body, braces included (`{` on line 10, `}` on line 12 is 3). */
  readonly bodyLines: number;
}

export interface SourceFile {
  /** Relative to the repository, with forward slashes: `src/graph/auth.ts`. */
  readonly path: string;
  readonly imports: readonly ImportEdge[];
  readonly functions: readonly FunctionInfo[];
}

function listTs(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...listTs(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

function repoPath(file: string): string {
  return relative(ROOT, file).split(sep).join('/');
}

/** `./x.js` from `src/a/b.ts` is `src/a/x.ts` (NodeNext: the specifier names the emitted file). */
function resolveRelative(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(dirname(fromFile), specifier).replace(/\.js$/, '.ts');
  return repoPath(target);
}

function lineOf(source: ts.SourceFile, position: number): number {
  return source.getLineAndCharacterOfPosition(position).line + 1;
}

function importsOf(file: string, source: ts.SourceFile): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const add = (literal: ts.Expression, typeOnly: boolean): void => {
    if (!ts.isStringLiteral(literal)) return;
    edges.push({ specifier: literal.text, target: resolveRelative(file, literal.text), typeOnly, line: lineOf(source, literal.getStart(source)) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const allTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, allTypes);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function nameOf(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  const own = node.name !== undefined ? node.name.getText(source) : undefined;
  const owner = (n: ts.Node | undefined): string | undefined => {
    for (let p = n; p !== undefined; p = p.parent) {
      if ((ts.isClassDeclaration(p) || ts.isClassExpression(p)) && p.name !== undefined) return p.name.text;
    }
    return undefined;
  };
  if (ts.isConstructorDeclaration(node)) return `${owner(node) ?? '<class>'}.constructor`;
  if (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) {
    const cls = owner(node);
    return cls !== undefined ? `${cls}.${own ?? '<method>'}` : (own ?? '<method>');
  }
  if (own !== undefined) return own;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source);
  let outer: ts.Node | undefined = parent;
  while (outer !== undefined && !ts.isFunctionLike(outer)) outer = outer.parent;
  const outerName = outer !== undefined ? nameOf(outer as ts.FunctionLikeDeclaration, source) : 'module';
  return `<anonymous in ${outerName}>`;
}

function functionsOf(source: ts.SourceFile): FunctionInfo[] {
  const found: FunctionInfo[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isFunctionDeclaration(node) ||
        ts.isMethodDeclaration(node) ||
        ts.isConstructorDeclaration(node) ||
        ts.isGetAccessor(node) ||
        ts.isSetAccessor(node) ||
        ts.isArrowFunction(node) ||
        ts.isFunctionExpression(node)) &&
      node.body !== undefined
    ) {
      const first = lineOf(source, node.body.getStart(source));
      const last = lineOf(source, node.body.getEnd());
      found.push({ name: nameOf(node, source), line: lineOf(source, node.getStart(source)), bodyLines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

let cached: readonly SourceFile[] | undefined;

/** Every .ts file under src/, parsed once per test file. */
export function sourceTree(): readonly SourceFile[] {
  cached ??= listTs(SRC).map((file) => {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    return { path: repoPath(file), imports: importsOf(file, source), functions: functionsOf(source) };
  });
  return cached;
}
