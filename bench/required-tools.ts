/**
 * The outside programs benchmarks drive (load generators, contenders). Each benchmark declares the ones it
 * needs; `npm run bench` checks them all before any benchmark starts, and says how to install what is
 * missing instead of failing half-way with `spawn wrk ENOENT`.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** How to get each tool on Debian/Ubuntu (the machines BENCHMARKS.md was measured on). */
export const TOOLS = {
  wrk: 'apt-get install -y wrk',
  openssl: 'apt-get install -y openssl',
  cfssl: 'apt-get install -y golang-cfssl',
  'softhsm2-util': 'apt-get install -y softhsm2',
} as const;

export type ToolName = keyof typeof TOOLS;

/** What a benchmark module exports besides run(): the tools it needs, given its environment settings. */
export type ToolsOf = ToolName[] | ((env: NodeJS.ProcessEnv) => ToolName[]);

export class MissingToolsError extends Error {
  constructor(readonly missing: { benchmark: string; tool: ToolName }[]) {
    super(missingToolsMessage(missing));
    this.name = 'MissingToolsError';
  }
}

/** Whether `name` is an executable file in one of the PATH's directories. */
export function onPath(name: string, pathVariable = process.env.PATH ?? ''): boolean {
  return pathVariable
    .split(path.delimiter)
    .filter((dir) => dir !== '')
    .some((dir) => {
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return statSync(file).isFile();
      } catch {
        return false;
      }
    });
}

export function missingToolsMessage(missing: { benchmark: string; tool: ToolName }[]): string {
  const tools = [...new Set(missing.map((m) => m.tool))];
  const lines = tools.map((tool) => {
    const by = missing.filter((m) => m.tool === tool).map((m) => m.benchmark);
    return `  ${tool} (needed by ${by.join(', ')}): ${TOOLS[tool]}`;
  });
  return `bench: missing tools, nothing was run:\n${lines.join('\n')}\nInstall them (as root), or run only the other benchmarks: npm run bench -- <name> ...`;
}

/** Throws MissingToolsError naming every missing tool of every benchmark at once. */
export function requireTools(needs: { benchmark: string; tools: ToolsOf | undefined }[], env: NodeJS.ProcessEnv = process.env): void {
  const missing = needs.flatMap(({ benchmark, tools }) => {
    const list = typeof tools === 'function' ? tools(env) : (tools ?? []);
    return list.filter((tool) => !onPath(tool, env.PATH)).map((tool) => ({ benchmark, tool }));
  });
  if (missing.length > 0) throw new MissingToolsError(missing);
}
