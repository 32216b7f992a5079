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

/** relayd.conf's `include` points, in file order. */
export const RELAYD_SNIPPET_SLOTS = ['globals', 'tables', 'protocolHttps', 'relays'] as const
export type RelaydSnippetSlot = (typeof RELAYD_SNIPPET_SLOTS)[number]

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
  /** relayd.conf includes the files by path; their texts are here for jproxy's linter to read. */
  relaydSnippets: Record<RelaydSnippetSlot, Snippet[]>
  snippets: Record<SnippetSlot, Snippet[]>
}

/** The platform jproxy runs on, as far as HAProxy's package layout goes. */
export function hostPlatform(platform: NodeJS.Platform = process.platform): Platform {
  return platform === 'openbsd' ? 'openbsd' : 'debian'
}

/** A context without snippets: what renders use when nobody read any. */
export function bareContext(platform: Platform = 'debian'): RenderContext {
  return {
    platform,
    relaydSnippets: {globals: [], protocolHttps: [], relays: [], tables: []},
    snippets: {backends: [], defaults: [], frontendHttp: [], frontendHttps: [], global: []},
  }
}

/**
 * Reads every snippet file the inventory lists. A missing or unreadable one is an error naming
 * the file and the inventory field that lists it; nothing is rendered without it.
 */
export async function loadRenderContext(inventory: Inventory, platform: Platform = hostPlatform(), target: 'haproxy' | 'relayd' = 'haproxy'): Promise<RenderContext> {
  const context = bareContext(platform)
  if (target === 'haproxy') {
    for (const slot of SNIPPET_SLOTS) context.snippets[slot] = await readSnippets(`haproxy.snippets.${slot}`, inventory.targets.haproxy.snippets[slot])
  } else {
    for (const slot of RELAYD_SNIPPET_SLOTS) context.relaydSnippets[slot] = await readSnippets(`relayd.snippets.${slot}`, inventory.targets.relayd.snippets[slot])
  }

  return context
}

async function readSnippets(field: string, files: string[]): Promise<Snippet[]> {
  const snippets: Snippet[] = []
  for (const [index, file] of files.entries()) {
    try {
      snippets.push({file, text: await readFile(file, 'utf8')})
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message
      throw new JproxyError('inputUnreadable', `targets.${field}[${index}]: cannot read ${file}: ${reason}`)
    }
  }

  return snippets
}

/** What jproxy's relayd linter reads for an `include` line: the snippet texts read with the context. */
export function includedText(context: RenderContext): (path: string) => string | undefined {
  const texts = new Map(Object.values(context.relaydSnippets).flat().map((s) => [s.file, s.text]))
  return (path) => texts.get(path)
}

/** The context one target needs: each target reads its own snippet files only. */
export async function contextFor(inventory: Inventory, target: string, platform: Platform = hostPlatform()): Promise<RenderContext> {
  return target === 'haproxy' || target === 'relayd' ? loadRenderContext(inventory, platform, target) : bareContext(platform)
}
