import type {Inventory} from '../inventory/schema.js'
import {bareContext, type RenderContext} from './context.js'
import {haproxyView} from './haproxy-view.js'
import {pfView} from './pf-view.js'
import {relaydView} from './relayd-view.js'
import {loadTemplate, renderTemplate} from './render.js'

/** What jproxy can render, and where each target lives on a stock install. */
export const TARGETS = {
  haproxy: {
    defaultCheck: ['haproxy', '-c', '-f', '$FILE'],
    defaultOutput: '/etc/haproxy/haproxy.cfg',
    template: 'haproxy.cfg',
    view: haproxyView,
  },
  pf: {
    defaultCheck: ['pfctl', '-nf', '$FILE'],
    defaultOutput: '/etc/pf.jproxy.conf',
    template: 'pf.conf',
    view: pfView,
  },
  relayd: {
    defaultCheck: ['relayd', '-n', '-f', '$FILE'],
    defaultOutput: '/etc/relayd.conf',
    template: 'relayd.conf',
    view: relaydView,
  },
} as const

export type TargetName = keyof typeof TARGETS

/**
 * Renders one target from an inventory: same inventory and context, same bytes. The context
 * (platform, snippet texts) comes from `contextFor` at the edge; without one, Debian's
 * defaults apply and no snippet is placed.
 */
export function renderTarget(inventory: Inventory, target: TargetName, context: RenderContext = bareContext()): string {
  const {template, view} = TARGETS[target]
  return renderTemplate(loadTemplate(template), view(inventory, context))
}

/** The live path a target is installed at: the inventory's `targets.<name>.output` or the stock path. */
export function targetOutputPath(inventory: Inventory, target: TargetName): string {
  return inventory.targets[target].output ?? TARGETS[target].defaultOutput
}
