// `npm run docs`: rewrites the generated parts of docs/ between their markers, keeping the prose
// around them, as `npm run readme` writes docs/commands.md from the commands. The inventory's field
// table comes from the zod schema's descriptions, the programs the tests need from
// test/requirements.json. test/docs/generated.test.ts fails while a page differs from this output.
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {type InventoryField, inventoryFields} from '../src/inventory/fields.js'

/** One generated part: the page it sits in, its marker name, and its Markdown. */
export interface GeneratedPart {
  file: string
  name: string
  text(root: string): Promise<string>
}

export const GENERATED: GeneratedPart[] = [
  {file: 'docs/inventory.md', name: 'inventory-fields', text: async () => fieldTable()},
  {file: 'docs/development.md', name: 'test-programs', text: programTable},
]

/** docs/inventory.md's table: every field of the schema with its type, default and description. */
export function fieldTable(): string {
  const row = (f: InventoryField) => `| \`${f.path}\` | ${[f.type, f.default, f.description].map(cell).join(' | ')} |`
  const rows = inventoryFields().map(row)
  return ['| field | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n')
}

/** docs/development.md's list of what `npm test` needs on PATH, from the file scripts/preflight.js reads. */
async function programTable(root: string): Promise<string> {
  const file = join(root, 'test/requirements.json')
  const requirements = JSON.parse(await readFile(file, 'utf8')) as Array<{debian: string; for: string; program: string}>
  const rows = requirements.map((r) => `| \`${r.program}\` | ${r.debian} | ${cell(r.for)} |`)
  return ['| program | Debian package | needed for |', '|---|---|---|', ...rows].join('\n')
}

/**
 * A table cell: `|` escaped, `<` and `>` outside code spans as entities (Markdown would take
 * `<certificate>` for a tag), and docs/NAME.md as a link beside this page.
 */
function cell(text: string): string {
  const prose = (part: string) =>
    part.replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll(/\bdocs\/([\w-]+\.md)\b/g, '[$1]($1)')
  return text
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : prose(part)))
    .join('`')
    .replaceAll('|', '\\|')
}

/**
 * `page` with the lines between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->`
 * replaced by `body`, indented as the opening marker is (a table inside a list item).
 */
export function replaceGenerated(page: string, name: string, body: string): string {
  const open = new RegExp(`^([ \\t]*)<!-- generated: ${name} .*-->\\n`, 'm').exec(page)
  const close = page.indexOf(`<!-- end generated: ${name} -->`)
  if (!open || close < open.index) {
    throw new Error(`no <!-- generated: ${name} … --> … <!-- end generated: ${name} -->`)
  }

  const indent = open[1]
  const start = open.index + open[0].length
  const lineStart = page.lastIndexOf('\n', close) + 1
  const lines = body.split('\n').map((line) => (line === '' ? '' : indent + line))
  return `${page.slice(0, start)}${lines.join('\n')}\n${page.slice(lineStart)}`
}

/** Each page with generated parts: its text now and the text it should have. */
export async function generatedPages(root = '.'): Promise<Map<string, {now: string; wanted: string}>> {
  const pages = new Map<string, {now: string; wanted: string}>()
  for (const part of GENERATED) {
    const page = pages.get(part.file) ?? {now: await readFile(join(root, part.file), 'utf8'), wanted: ''}
    page.wanted = replaceGenerated(page.wanted || page.now, part.name, await part.text(root))
    pages.set(part.file, page)
  }

  return pages
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [file, {now, wanted}] of await generatedPages()) {
    if (now === wanted) continue
    await writeFile(file, wanted)
    process.stdout.write(`wrote ${file}\n`)
  }
}
