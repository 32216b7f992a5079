import {readFileSync} from 'node:fs'
import Mustache from 'mustache'

const TEMPLATE_DIR = new URL('../../templates/', import.meta.url)
const templateCache = new Map<string, string>()

/** The text of `templates/NAME.mustache`, read once per process. */
export function loadTemplate(name: string): string {
  let text = templateCache.get(name)
  if (text === undefined) {
    text = readFileSync(new URL(`${name}.mustache`, TEMPLATE_DIR), 'utf8')
    templateCache.set(name, text)
  }

  return text
}

/**
 * Places a view-model's values into a template. The one render function: HTML escaping is off
 * here (configs are not HTML; escaping would turn `/etc/ssl/a=b.pem` into entities), and
 * safety comes from the schema, which rejects any value that could break a config line.
 */
export function renderTemplate(template: string, view: object): string {
  return Mustache.render(template, view, {}, {escape: (value: unknown) => String(value)})
}
