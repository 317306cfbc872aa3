/**
 * Files a job reads beside its module. Locally a job opens them with
 * `new URL('./data/corpus.txt', import.meta.url)`; in the Lambda bundle `import.meta.url` is
 * the bundle's own file, so the same relative paths must exist beside it. The bundler
 * copies them there after esbuild has run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';

export interface JobAsset {
  /** Absolute path of the file or directory on this machine. */
  readonly source: string;
  /** Path relative to the bundle's directory, with '/' separators. */
  readonly target: string;
}

/** A literal `new URL('./…', import.meta.url)`: the pattern esbuild leaves untouched. */
const URL_REFERENCE = /new\s+URL\(\s*(['"`])(\.\/[^'"`$]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Relative paths a module opens with a literal `new URL('./…', import.meta.url)`. */
export function referencedAssets(moduleSource: string): string[] {
  return [...new Set([...moduleSource.matchAll(URL_REFERENCE)].map((m) => m[2]!))];
}

export function resolveJobAssets(
  jobModule: string,
  given: readonly string[] | undefined,
  error: (message: string) => Error,
): JobAsset[] {
  if (given !== undefined && !Array.isArray(given)) throw error('must be an array of relative paths');
  const paths = given ?? referencedAssets(readFileSync(jobModule, 'utf8'));
  const base = dirname(jobModule);
  return paths.map((path) => {
    if (typeof path !== 'string' || path.trim() === '') throw error(`entries must be non-empty paths, got ${JSON.stringify(path)}`);
    const target = normalize(path);
    // Outside the module's directory there is nothing in the bundle for a relative URL to
    // reach (/var/task is the top), so such paths cannot work in Lambda.
    if (isAbsolute(path) || target === '.' || target === '..' || target.startsWith(`..${sep}`)) {
      throw error(`${JSON.stringify(path)} must be a path inside the job module's directory`);
    }
    if (/["$`]/.test(target)) throw error(`${JSON.stringify(path)} must not contain quotes, '$' or backquotes`);
    const source = join(base, target);
    if (!existsSync(source)) throw error(`${JSON.stringify(path)} does not exist beside the job module (${source})`);
    return { source, target: target.split(sep).join('/') };
  });
}

/**
 * Shell commands copying the assets into the bundle directory. Node does the copying, so
 * the commands are the same for bash and cmd.exe (the two shells local bundling uses).
 */
export function copyAssetCommands(assets: readonly JobAsset[], outputDir: string): string[] {
  const script = "const f=require('node:fs'),p=require('node:path');f.mkdirSync(p.dirname(process.argv[2]),{recursive:true});f.cpSync(process.argv[1],process.argv[2],{recursive:true})";
  const slash = (p: string) => p.split(sep).join('/');
  return assets.map((a) => `node -e "${script}" "${slash(a.source)}" "${slash(outputDir)}/${a.target}"`);
}
