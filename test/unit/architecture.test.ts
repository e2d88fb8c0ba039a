/**
 * The shape of `src/`, checked on every run: no import circle (type-only imports included), no
 * browser-side room that reaches a Node-only module, no module over 300 code lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

/** Longest module, in code lines (comments and blank lines not counted). */
const MAX_CODE_LINES = 300;

/**
 * Modules still over {@link MAX_CODE_LINES} while issue 9 splits them (the page client and the
 * host); remove each entry when its split lands.
 */
const OVERSIZED_FOR_NOW = new Set<string>();

/** Rooms that run in a browser tab or anywhere: they must not reach `idb`, `ws` or Node's modules. */
const PORTABLE_ROOMS = ['page/', 'protocol/', 'errors/', 'devtools/', 'bindings/'];
const NODE_BUILTINS = new Set(builtinModules);
const isForbiddenInPortable = (specifier: string): boolean =>
  specifier === 'idb' ||
  specifier === 'ws' ||
  specifier.startsWith('node:') ||
  NODE_BUILTINS.has(specifier.split('/')[0] ?? specifier);

interface Module {
  /** Path below `src/`, e.g. `server/session/connection.ts`. */
  name: string;
  text: string;
  /** Modules of `src/` it imports (static, dynamic, `import type` and `export … from`). */
  local: string[];
  /** Packages and built-ins it imports. */
  external: string[];
}

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listSources(path);
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function readModule(path: string): Module {
  const text = readFileSync(path, 'utf8');
  const local: string[] = [];
  const external: string[] = [];
  for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
    if (!specifier.startsWith('.')) {
      external.push(specifier);
      continue;
    }
    // Sources import each other as `./x.js` (NodeNext); the file is `./x.ts`.
    const target = resolve(dirname(path), specifier).replace(/\.js$/, '.ts');
    local.push(relative(src, target));
  }
  return { name: relative(src, path), text, local, external };
}

const modules = new Map(listSources(src).map((path) => [relative(src, path), readModule(path)]));

/** The import circles among `modules`, each as the list of its modules (Tarjan's strongly connected components). */
function importCircles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (name: string): void => {
    index.set(name, index.size);
    low.set(name, index.get(name) ?? 0);
    stack.push(name);
    onStack.add(name);
    for (const next of modules.get(name)?.local ?? []) {
      if (!modules.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(name, Math.min(low.get(name) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(name, Math.min(low.get(name) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(name) !== index.get(name)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(member);
    } while (member !== name);
    const selfImport = modules.get(name)?.local.includes(name) ?? false;
    if (component.length > 1 || selfImport) circles.push(component.sort());
  };
  for (const name of modules.keys()) if (!index.has(name)) visit(name);
  return circles;
}

/** Every module `start` reaches through local imports, itself included. */
function reachable(start: string): string[] {
  const seen = new Set<string>([start]);
  const queue = [start];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    for (const next of modules.get(name)?.local ?? []) {
      if (modules.has(next) && !seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return [...seen];
}

/** Lines that hold code: a token other than a comment, as TypeScript's parser sees them. */
function codeLines(name: string, text: string): number {
  const file = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true);
  const lines = new Set<number>();
  const lineOf = (position: number) => file.getLineAndCharacterOfPosition(position).line;
  const visit = (node: ts.Node): void => {
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) return;
    const children = node.getChildren(file);
    if (children.length > 0) return children.forEach(visit);
    if (node.kind === ts.SyntaxKind.EndOfFileToken) return;
    const last = lineOf(node.getEnd());
    for (let line = lineOf(node.getStart(file)); line <= last; line++) lines.add(line);
  };
  visit(file);
  return lines.size;
}

describe('architecture of src/', () => {
  it('reads every module and resolves every relative import to a module of src/', () => {
    expect(modules.size).toBeGreaterThan(50);
    const unresolved = [...modules.values()].flatMap(({ name, local }) =>
      local.filter((target) => !modules.has(target)).map((target) => `${name} → ${target}`),
    );
    expect(unresolved).toEqual([]);
  });

  it('has no import circle, type-only imports included', () => {
    expect(importCircles()).toEqual([]);
  });

  it('finds a circle when there is one (the check itself)', () => {
    const a = 'server/__probe-a.ts';
    const b = 'server/__probe-b.ts';
    modules.set(a, { name: a, text: '', local: [b], external: [] });
    modules.set(b, { name: b, text: '', local: [a], external: [] });
    try {
      expect(importCircles()).toContainEqual([a, b]);
    } finally {
      modules.delete(a);
      modules.delete(b);
    }
  });

  it.each(PORTABLE_ROOMS)('keeps src/%s free of idb, ws and Node modules, also through what it imports', (room) => {
    const offending = [...modules.keys()]
      .filter((name) => name.startsWith(room))
      .flatMap((start) =>
        reachable(start).flatMap((name) =>
          (modules.get(name)?.external ?? [])
            .filter(isForbiddenInPortable)
            .map((specifier) =>
              name === start ? `${name} imports ${specifier}` : `${start} → ${name} imports ${specifier}`,
            ),
        ),
      );
    expect([...new Set(offending)]).toEqual([]);
  });

  it('counts code lines without comments (the counter itself)', () => {
    const text = [
      '/** Doc. */',
      '// note',
      'export const a = `x',
      '// in a template`;',
      '',
      '/* block */ const b = /\\/\\//;',
    ].join('\n');
    expect(codeLines('probe.ts', text)).toBe(3);
  });

  it(`keeps every module at most ${MAX_CODE_LINES} code lines`, () => {
    const oversized = [...modules.values()]
      .filter(({ name }) => !OVERSIZED_FOR_NOW.has(name))
      .map(({ name, text }) => ({ name, lines: codeLines(name, text) }))
      .filter(({ lines }) => lines > MAX_CODE_LINES);
    expect(oversized).toEqual([]);
  });
});
