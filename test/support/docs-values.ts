import {readdir, readFile} from 'node:fs/promises'
import {basename, join, posix} from 'node:path'

/** The one inventory path of README.md, docs/ and contrib/ (the units, sudoers and doas name it too). */
export const INVENTORY = '/etc/jproxy/jproxy.yaml'

/** node_exporter's textfile folder, one per platform; docs/metrics.md says which is whose. */
export const TEXTFILE = {debian: '/var/lib/prometheus/node-exporter', openbsd: '/var/db/prometheus'} as const
type Platform = keyof typeof TEXTFILE

/** Whose textfile folder a file may name: OpenBSD's own files, Debian's elsewhere, both where the table is. */
function platformsOf(file: string): Platform[] {
  if (file === 'docs/metrics.md') return ['debian', 'openbsd']
  return /^contrib\/(openbsd|rc\.d)\//.test(file) ? ['openbsd'] : ['debian']
}

/** jproxy commands that never read an inventory. */
const NO_INVENTORY = [/^$/, /^--?(version|help|h|v)\b/, /^(help|autocomplete|plugins|lint relayd)\b/]

const SCHEDULE_FIELD = /^[\d*/,-]+$/

/** The command of a crontab line (five schedule fields, in /etc/crontab a user, then the command), or undefined. */
export function cronCommand(candidate: string): string | undefined {
  const fields = candidate.trim().split(/\s+/)
  if (fields.length < 6 || !fields.slice(0, 5).every((f) => SCHEDULE_FIELD.test(f))) return undefined
  const user = /^[a-z_][\w-]*$/.test(fields[5]) && fields[6]?.startsWith('/')
  return fields.slice(user ? 6 : 5).join(' ')
}

/**
 * The command lines a file runs unattended: crontab lines (a crontab file's lines, or a line or
 * code span of a page that starts with five schedule fields), systemd units' ExecStart, rc.d
 * scripts' daemon_flags.
 */
export function unattendedCommands(file: string, text: string): Array<{command: string; line: number}> {
  const found: Array<{command: string; line: number}> = []
  for (const [index, raw] of text.split('\n').entries()) {
    const line = index + 1
    if (/^\s*#/.test(raw)) continue
    const unit = /^ExecStart(?:Pre|Post)?=[-@:+!]*(.*)$/.exec(raw) ?? /^daemon_flags="(.*)"$/.exec(raw)
    if (unit) {
      found.push({command: unit[1], line})
      continue
    }

    const candidates = [raw, ...[...raw.matchAll(/`([^`]+)`/g)].map((m) => m[1])]
    for (const candidate of candidates) {
      const command = cronCommand(candidate)
      if (command) found.push({command, line})
    }
  }

  return found
}

/** Each jproxy invocation of a shell command line that reads an inventory, without `-i`/`--inventory`. */
function invocationsWithoutInventory(command: string): string[] {
  return command
    .split(/\s*(?:&&|\|\||;|\|)\s*/)
    .map((part) => part.trim().replace(/^(\S+=\S+\s+)*(\/usr\/bin\/env\s+)?/, ''))
    .filter((part) => {
      const [program, ...rest] = part.split(/\s+/)
      if (basename(program ?? '') !== 'jproxy') return false
      if (NO_INVENTORY.some((re) => re.test(rest.join(' ')))) return false
      return !/(?:^|\s)(?:-i|--inventory)(?:\s|=)\S/.test(part)
    })
}

/** An absolute path to a YAML file. */
const YAML_PATH = /(?:^|[\s'"`(=[,])(\/[^\s'"`)\],;]*\.ya?ml)\b/g
/** The absolute path given to -i, --inventory or JPROXY_INVENTORY. */
const INVENTORY_ARGUMENT = /(?:(?:^|\s)(?:-i|--inventory)[\s=]|JPROXY_INVENTORY=)['"]?(\/[^\s'"`),;]+)/g
/** A path under /var that names node_exporter or Prometheus, and the two flags that name textfile paths. */
const TEXTFILE_PATH = /(\/var\/[\w./-]*(?:prometheus|node[-_]exporter)[\w./-]*)/g
const PROM_FILE = /--prom-file[\s=]['"]?(\/[^\s'"`),;]+)/g
const TEXTFILE_FLAG = /--collector\.textfile\.directory=['"]?(\/[^\s'"`),;]+)/g

/** The first group of every match of `re` in `line`. */
function matches(line: string, re: RegExp): string[] {
  return [...line.matchAll(re)].map((m) => m[1])
}

/** The folder a textfile path names: the path itself, or its folder when it names a `.prom` file. */
function textfileFolder(path: string): string {
  return path.endsWith('.prom') ? posix.dirname(path) : path.replace(/\/+$/, '')
}

/**
 * Where `text` (the contents of `file`, relative to the repository) drifts from the one set of
 * values: another inventory path, another textfile folder, a cron line or unit command that runs a
 * jproxy command reading the inventory without naming it. One `file:line: message` each.
 */
export function checkDocsValues(file: string, text: string): string[] {
  const problems: string[] = []
  const allowed: string[] = platformsOf(file).map((p) => TEXTFILE[p])
  for (const [index, line] of text.split('\n').entries()) {
    const at = `${file}:${index + 1}`
    const inventories = [
      ...matches(line, YAML_PATH).filter((p) => /jproxy/.test(basename(p))),
      ...matches(line, INVENTORY_ARGUMENT),
    ]
    for (const path of new Set(inventories)) {
      if (path !== INVENTORY) problems.push(`${at}: inventory ${path}, not ${INVENTORY}`)
    }

    const folders = [TEXTFILE_PATH, PROM_FILE, TEXTFILE_FLAG].flatMap((re) => matches(line, re).map(textfileFolder))
    for (const folder of new Set(folders)) {
      if (!allowed.includes(folder)) problems.push(`${at}: textfile folder ${folder}, not ${allowed.join(' or ')}`)
    }
  }

  for (const {command, line} of unattendedCommands(file, text)) {
    for (const invocation of invocationsWithoutInventory(command)) {
      problems.push(`${file}:${line}: runs "${invocation}" unattended without -i ${INVENTORY}`)
    }
  }

  return problems
}

/** README.md, docs/*.md and every file under contrib/, relative to `root`. */
export async function docsValueFiles(root: string): Promise<string[]> {
  const docs = (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)
  const contrib = (await readdir(join(root, 'contrib'), {recursive: true, withFileTypes: true}))
    .filter((entry) => entry.isFile())
    .map((entry) => posix.join(posix.relative(root, entry.parentPath), entry.name))
  return ['README.md', ...docs.sort(), ...contrib.sort()]
}

/** Reads `file` under `root` and checks it. */
export async function checkDocsFile(root: string, file: string): Promise<string[]> {
  return checkDocsValues(file, await readFile(join(root, file), 'utf8'))
}
