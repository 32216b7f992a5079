import {expect} from 'chai'
import {readFile} from 'node:fs/promises'
import {parse} from 'yaml'

import {Inventory} from '../../src/inventory/schema.js'
import {parseVerdicts} from '../../src/probe/verdicts.js'
import {renderTarget} from '../../src/render/targets.js'
import {fullInventory} from '../fixtures/inventories.js'

/** The fenced blocks of a markdown page, by info string ('' for none). */
async function blocks(file: string): Promise<Array<{body: string; lang: string}>> {
  const text = await readFile(file, 'utf8')
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({body: m[2], lang: m[1]}))
}

describe('docs/relayd-checks.md: every snippet is what jproxy does', () => {
  it('the inventory snippet turns the checks on and renders the config lines the page shows', async () => {
    const [yaml, rendered, command, verdicts, status] = await blocks('docs/relayd-checks.md')
    expect(yaml.lang).to.equal('yaml')
    const data = fullInventory()
    data.probe = {...data.probe, ...parse(yaml.body).probe}
    const inventory = Inventory.parse(data)
    expect(inventory.probe).to.deep.include({relaydCheckDir: '/usr/local/libexec/jproxy', relaydChecks: true})
    const config = renderTarget(inventory, 'relayd').split('\n').map((l) => l.trim())
    for (const line of rendered.body.trim().split('\n')) expect(config).to.include(line)

    // The watcher command the service test runs (test/probe/watch.test.ts: probe --watch -i FILE).
    expect(command).to.deep.equal({body: 'jproxy probe --watch -i /etc/jproxy/jproxy.yaml\n', lang: 'sh'})
    expect(parseVerdicts(verdicts.body)?.hosts).to.have.length(4)
    expect(status.body).to.match(/^watcher: running, last round \d+s ago\n$/)
  })
})
