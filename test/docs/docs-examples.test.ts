import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {parse} from 'yaml'

import {Inventory} from '../../src/inventory/schema.js'
import {lintRelaydConf} from '../../src/relayd/lint.js'
import {loadRenderContext} from '../../src/render/context.js'
import {renderTarget} from '../../src/render/targets.js'
import {smallInventory} from '../fixtures/inventories.js'
import {selfSignedPem} from '../support/certs.js'
import {fencedBlocks} from '../support/markdown.js'

const run = promisify(execFile)

function merge(target: Record<string, any>, source: Record<string, any>): Record<string, any> {
  for (const [key, value] of Object.entries(source)) {
    target[key] = value && typeof value === 'object' && !Array.isArray(value) && typeof target[key] === 'object' ? merge(target[key], value) : value
  }

  return target
}

/** Every inventory example of the docs pages renders, passes `haproxy -c` clean and lints clean in strict mode. */
describe('inventory examples in docs/ render to configs HAProxy and the relayd linter accept', function () {
  this.timeout(60_000)
  let dir: string
  let pem: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-docs-'))
    pem = await selfSignedPem(dir, 'meet.example.org')
    await writeFile(join(dir, 'state'), '1\n')
  })

  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  for (const page of ['docs/proxy-features.md', 'docs/privileges.md']) {
    it(`${page}: each inventory block`, async () => {
      const blocks = await fencedBlocks(page)
      // The page's HAProxy snippet example is the file its snippet inventory lists.
      const snippet = blocks.find((b) => b.lang === 'haproxy')
      const snippetDir = join(dir, 'snippets')
      await mkdir(snippetDir, {recursive: true})
      if (snippet) await writeFile(join(snippetDir, 'https.cfg'), snippet.text)

      const inventories = blocks.filter((b) => b.lang === 'yaml' && /^(proxy|targets):/m.test(b.text))
      expect(inventories.length, page).to.be.greaterThan(0)
      for (const block of inventories) {
        const data = merge(smallInventory(), parse(block.text.replaceAll('/etc/jproxy/haproxy/', `${snippetDir}/`)))
        data.proxy.tls = {certificate: pem, key: pem}
        data.targets = merge(data.targets ?? {}, {haproxy: {socket: join(dir, 'admin.sock'), stateFile: join(dir, 'state')}})
        const inventory = Inventory.parse(data)
        const config = join(dir, 'docs.cfg')
        await writeFile(config, renderTarget(inventory, 'haproxy', await loadRenderContext(inventory, 'debian')))
        const {stderr, stdout} = await run('haproxy', ['-c', '-f', config]).catch((error: {stderr: string; stdout: string}) => error)
        expect(`${stdout}${stderr}`, block.text).to.include('Configuration file is valid')
        expect(`${stdout}${stderr}`, block.text).to.not.match(/\[(WARNING|ALERT)\]/)
        expect(lintRelaydConf(renderTarget(inventory, 'relayd'), {file: 'relayd.conf', strict: true}), block.text).to.deep.equal([])
        if (snippet && block.text.includes('frontendHttps')) expect(await readFile(config, 'utf8')).to.include(snippet.text)
        if (block.text.includes('user: false')) expect(await readFile(config, 'utf8')).to.not.match(/^\s*(user|group|chroot) /m)
      }
    })
  }
})
