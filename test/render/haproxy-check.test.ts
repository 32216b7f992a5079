import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {loadInventory} from '../../src/inventory/load.js'
import {proxyView} from '../../src/inventory/proxy-view.js'
import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {fullInventory, INVENTORY_VARIANTS, smallInventory} from '../fixtures/inventories.js'
import {selfSignedPem} from '../support/certs.js'

const run = promisify(execFile)

/** Runs the real `haproxy -c`; a missing binary fails the test (CI installs the Debian package). */
async function haproxyCheck(file: string, localPeer?: string): Promise<{code: number; output: string}> {
  const args = ['-c', ...(localPeer ? ['-L', localPeer] : []), '-f', file]
  try {
    const {stderr, stdout} = await run('haproxy', args)
    return {code: 0, output: stdout + stderr}
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & {code: number | string; stderr?: string; stdout?: string}
    if (failure.code === 'ENOENT') throw new Error('haproxy not found: install the Debian package haproxy', {cause: error})
    return {code: Number(failure.code), output: `${failure.stdout ?? ''}${failure.stderr ?? ''}`}
  }
}

describe('haproxy -c accepts every rendered haproxy.cfg without a warning', function () {
  this.timeout(60_000)
  let dir: string
  let pem: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-haproxy-c-'))
    pem = await selfSignedPem(dir, 'meet.example.org')
    // haproxy warns while the server-state file is missing or empty; its version line is enough.
    await writeFile(join(dir, 'server-state'), '1\n')
  })

  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  /** Only what cannot exist on a test machine changes: certificate, socket, state file, chroot. */
  function onThisMachine(inventory: Inventory): Inventory {
    return {
      ...inventory,
      proxy: {...inventory.proxy, tls: {certificate: pem, key: pem}},
      targets: {
        ...inventory.targets,
        haproxy: {...inventory.targets.haproxy, chroot: inventory.targets.haproxy.chroot && dir, socket: join(dir, 'admin.sock'), stateFile: join(dir, 'server-state')},
      },
    }
  }

  async function expectClean(name: string, inventory: Inventory): Promise<void> {
    const file = join(dir, `${name}.cfg`)
    await writeFile(file, renderTarget(onThisMachine(inventory), 'haproxy'))
    // A config that names its local peer (`localpeer`) needs no -L; a peered one without it is checked as its first peer.
    const {code, output} = await haproxyCheck(file, inventory.targets.haproxy.localPeer ? undefined : inventory.proxy.peers[0]?.name)
    expect(code, output).to.equal(0)
    expect(output, output).to.not.match(/\[(WARNING|ALERT)\]/)
  }

  for (const example of readdirSync('examples').filter((f) => f.endsWith('.yaml'))) {
    it(`examples/${example}`, async () => {
      await expectClean(example, await loadInventory(`examples/${example}`))
    })
  }

  for (const [name, change] of Object.entries(INVENTORY_VARIANTS)) {
    it(name, async () => {
      const data = smallInventory()
      change(data)
      await expectClean(name.replaceAll(' ', '-'), Inventory.parse(data))
    })
  }

  it('peers with a stick table (checked as one of the peers)', async () => {
    const data = fullInventory()
    data.shards[0].jvbs[1].address = 'localhost'
    await expectClean('peers', Inventory.parse(data))
  })

  it('peers shared by several proxies (no localPeer: checked with -L as one of them), a jicofo on its own IPv6 address', async () => {
    const data = fullInventory()
    data.shards[0].jvbs[1].address = 'localhost'
    data.shards[1].jicofo.address = '2001:db8::11'
    delete data.targets.haproxy.localPeer
    await expectClean('peers-shared', Inventory.parse(data))
  })

  it('a fleet with no static bridge: be_colibri with no server, and the allow-list held by its anchor entry alone', async () => {
    const data = smallInventory()
    data.shards[0].jvbs = []
    data.fleet = {etcd: {endpoints: ['http://127.0.0.1:2379']}, proxies: [{name: 'a'}]}
    const inventory = proxyView(Inventory.parse(data), 'a')
    await expectClean('fleet-no-bridge', inventory)
    const text = renderTarget(onThisMachine(inventory), 'haproxy')
    expect(text).to.include('    acl known_jvb var(txn.jvb) -m str /\n')
    expect(text).to.match(/\nbackend be_colibri\n( {4}.*\n)+/)
    expect(text).to.not.match(/\nbackend be_colibri\n( {4}.*\n)* {4}server /)
  })

  it('a backend name that does not resolve disables that server, not the proxy', async () => {
    const data = smallInventory()
    data.shards[0].jvbs[0].address = 'no-such-host.invalid'
    const file = join(dir, 'unresolvable.cfg')
    await writeFile(file, renderTarget(onThisMachine(Inventory.parse(data)), 'haproxy'))
    const {code, output} = await haproxyCheck(file)
    expect(code, output).to.equal(0)
    expect(output).to.match(/\[WARNING\].*could not resolve address 'no-such-host\.invalid', disabling server/)
  })

  it('fails, naming the line, when the config is broken (the check is real)', async () => {
    const file = join(dir, 'broken.cfg')
    const text = renderTarget(onThisMachine(Inventory.parse(smallInventory())), 'haproxy').replace('balance roundrobin', 'balance no-such-algorithm')
    await writeFile(file, text)
    const {code, output} = await haproxyCheck(file)
    expect(code).to.not.equal(0)
    expect(output).to.match(/\[ALERT\].*broken\.cfg:\d+/)
  })
})
