import {readFile} from 'node:fs/promises'

import {JproxyError} from '../errors.js'
import type {Inventory} from '../inventory/schema.js'

/** The platforms whose HAProxy packages jproxy knows the privilege defaults of. */
export type Platform = 'debian' | 'openbsd'

/** The unprivileged user, group and chroot each platform's HAProxy package sets up. */
export const PRIVILEGE_DEFAULTS: Record<Platform, {chroot: string; group: string; user: string}> = {
  debian: {chroot: '/var/lib/haproxy', group: 'haproxy', user: 'haproxy'},
  openbsd: {chroot: '/var/haproxy', group: '_haproxy', user: '_haproxy'},
}

/** haproxy.cfg's operator insertion points, in the order they appear in the file. */
export const SNIPPET_SLOTS = ['global', 'defaults', 'frontendHttp', 'frontendHttps', 'backends'] as const
export type SnippetSlot = (typeof SNIPPET_SLOTS)[number]

/** One operator file, read before rendering. */
export interface Snippet {
  file: string
  text: string
}

/**
 * What a render needs beyond the inventory, read at the edge so rendering itself stays pure:
 * the platform (privilege defaults) and the text of the operator's snippet files.
 */
export interface RenderContext {
  platform: Platform
  snippets: Record<SnippetSlot, Snippet[]>
}

/** The platform jproxy runs on, as far as HAProxy's package layout goes. */
export function hostPlatform(platform: NodeJS.Platform = process.platform): Platform {
  return platform === 'openbsd' ? 'openbsd' : 'debian'
}

/** A context without snippets: what renders use when nobody read any. */
export function bareContext(platform: Platform = 'debian'): RenderContext {
  return {platform, snippets: {backends: [], defaults: [], frontendHttp: [], frontendHttps: [], global: []}}
}

/**
 * Reads every snippet file the inventory lists. A missing or unreadable one is an error naming
 * the file and the inventory field that lists it; nothing is rendered without it.
 */
export async function loadRenderContext(inventory: Inventory, platform: Platform = hostPlatform()): Promise<RenderContext> {
  const context = bareContext(platform)
  const listed = inventory.targets.haproxy.snippets
  for (const slot of SNIPPET_SLOTS) {
    for (const [index, file] of listed[slot].entries()) {
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message
        throw new JproxyError('inputUnreadable', `targets.haproxy.snippets.${slot}[${index}]: cannot read ${file}: ${reason}`)
      }

      context.snippets[slot].push({file, text})
    }
  }

  return context
}

/** The context one target needs: only haproxy.cfg places snippet files, so only it reads them. */
export async function contextFor(inventory: Inventory, target: string, platform: Platform = hostPlatform()): Promise<RenderContext> {
  return target === 'haproxy' ? loadRenderContext(inventory, platform) : bareContext(platform)
}
