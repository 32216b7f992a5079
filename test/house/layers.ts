import {readdir, readFile} from 'node:fs/promises'
import {dirname, join, normalize, relative} from 'node:path'

/**
 * The folders (and top-level files) of src/, from the top down. A file imports only from its own
 * folder and from folders of a lower layer: never up, never sideways into a sibling of its layer.
 * This table is the authority (docs/development.md shows it, and a test keeps the two equal);
 * change it deliberately, in a commit of its own, when a move is right.
 */
export const LAYERS: ReadonlyArray<{names: readonly string[]; role: string}> = [
  {names: ['entry', 'index.ts'], role: 'bundle entries (start-up, hot commands, help, `probe --host`) and the package entry'},
  {names: ['commands', 'hooks'], role: "oclif's commands and hooks: parse flags, call one domain function, present its result"},
  {names: ['cli'], role: 'the base command, shared flags, prompts, the command-layer inventory load'},
  {names: ['report'], role: 'human, JSON, Nagios and Prometheus textfile output'},
  {names: ['fleet', 'init', 'jvb', 'scale', 'status', 'tls'], role: 'feature domains: what one command does'},
  {names: ['apply'], role: 'the safe swap pipeline the feature domains install through'},
  {names: ['render'], role: 'view-models, templates, the rendered config checks'},
  {names: ['etcd'], role: "a client of etcd 3.4's v3 JSON gateway: keys, txns, leases, lock, watch"},
  {names: ['dns', 'haproxy', 'probe'], role: "targets and checks: HAProxy's vocabulary and runtime API, probes, DNS"},
  {names: ['inventory'], role: 'schema, load, cross-field rules, comment-preserving edits'},
  {names: ['relayd'], role: "a grammar library: relayd.conf's lexer, parser, linter, relayctl, keypair layout"},
  {names: ['findings', 'system'], role: 'files, atomic writes, locks, processes; the finding shape'},
  {names: ['errors.ts'], role: 'the exit-code table'},
]

/** The folders whose files may import oclif: everything above the domains. */
export const OCLIF_LAYERS = new Set(['cli', 'commands', 'entry', 'hooks', 'index.ts'])

export interface Import {
  /** The file that imports, relative to the repository (`src/apply/apply.ts`). */
  file: string
  /** What it names, as written (`../render/targets.js`, `@oclif/core`). */
  specifier: string
  /** The entry of src/ it reaches (`render`, `errors.ts`); undefined for a package. */
  target?: string
}

const SPECIFIERS = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'([^']+)'/g

/** Every import and re-export of every .ts file under `root` (a src/ folder). */
export async function importsOf(root: string): Promise<Import[]> {
  const imports: Import[] = []
  for (const file of await readdir(root, {recursive: true})) {
    if (!file.endsWith('.ts')) continue
    const text = await readFile(join(root, file), 'utf8')
    for (const [, specifier] of text.matchAll(SPECIFIERS)) {
      const target = specifier.startsWith('.') ? normalize(join(dirname(file), specifier)).split('/')[0] : undefined
      imports.push({file: join(relative('.', root), file), specifier, target: target?.replace(/\.js$/, '.ts')})
    }
  }

  return imports
}

/** The entry of src/ a file of src/ belongs to: its top folder, or its own name at the top. */
export const entryOf = (file: string, root: string) => relative(root, file).split('/')[0]

/** The rank of each entry of src/: 0 is the bottom. */
export function ranks(layers = LAYERS): Map<string, number> {
  return new Map(layers.flatMap(({names}, index) => names.map((name) => [name, layers.length - 1 - index] as const)))
}

/** Each import that runs up or sideways, or reaches an entry without a rank, as one line. */
export function layerViolations(imports: readonly Import[], root: string, layers = LAYERS): string[] {
  const rank = ranks(layers)
  const violations: string[] = []
  for (const {file, specifier, target} of imports) {
    const from = entryOf(file, root)
    if (target === undefined || target === from) continue
    const [a, b] = [rank.get(from), rank.get(target)]
    if (a === undefined || b === undefined) violations.push(`${file}: ${specifier}: ${a === undefined ? from : target} has no layer`)
    else if (b >= a) violations.push(`${file}: ${specifier}: ${from} (layer ${a}) imports ${target} (layer ${b}), ${b > a ? 'a higher' : 'a sibling'} layer`)
  }

  return violations
}
