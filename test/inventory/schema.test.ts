import {Ajv2020} from 'ajv/dist/2020.js'
import {expect} from 'chai'
import {readFile} from 'node:fs/promises'
import {parse, stringify} from 'yaml'
import {z} from 'zod'

import {paperAnswers, starterInventory} from '../../src/init/starter.js'
import {inventoryFields} from '../../src/inventory/fields.js'
import {inventoryJsonSchema, JSON_SCHEMA_FILE, nodeAt} from '../../src/inventory/json-schema.js'
import {parseInventory} from '../../src/inventory/load.js'
import {Inventory} from '../../src/inventory/schema.js'
import {fullInventory, getPath, INVENTORY_VARIANTS, setPath, smallInventory} from '../fixtures/inventories.js'

let compiled: ReturnType<Ajv2020['compile']> | undefined

/** The shipped JSON Schema (written by `npm run build`) as an editor's validator sees it; compiled once. */
async function shippedSchemaValidator() {
  const schema = JSON.parse(await readFile(JSON_SCHEMA_FILE, 'utf8'))
  compiled ??= new Ajv2020({allErrors: true, allowUnionTypes: true, strict: true}).compile(schema)
  return compiled
}

/** Every path whose input is a string, read off the schema itself, so a new field is covered at once. */
function stringFieldPaths(): string[] {
  const paths = new Set<string>()
  const walk = (node: any, path: string): void => {
    if (!node) return
    for (const alt of node.anyOf ?? []) walk(alt, path)
    if (node.type === 'object') for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, path ? `${path}.${key}` : key)
    if (node.type === 'array') walk(node.items, `${path}[0]`)
    if (node.type === 'string' || node.enum) paths.add(path)
  }

  walk(z.toJSONSchema(Inventory, {io: 'input', unrepresentable: 'any'}), '')
  // Durations take "5s" or a number; their transform hides them from the JSON schema.
  for (const duration of ['health.interval', 'health.timeout', 'targets.haproxy.hardStopAfter']) paths.add(duration)
  return [...paths].sort()
}

const HOSTILE = {
  'a NUL byte': 'x\u0000y',
  'a brace': 'x{y',
  'a closing brace': 'x}y',
  'a hash': 'x#y',
  'a newline': 'x\ny',
  'a quote': 'x"y',
  'a semicolon': 'x;y',
  'a space': 'x y',
  'a C1 control (NEL)': 'x\u0085y',
  'a C1 control (CSI)': 'x\u009By',
  'DEL': 'x\u007Fy',
  'a line separator (U+2028)': 'x\u2028y',
  'a paragraph separator (U+2029)': 'x\u2029y',
  'a bidi override (U+202E)': 'x\u202Ey',
}

describe('inventory schema', () => {
  it('fills defaults so the single-host layout needs few lines', () => {
    const inventory = Inventory.parse(smallInventory())
    expect(inventory.colibriWs).to.equal(true)
    expect(inventory.health).to.deep.equal({fall: 3, interval: 5000, rise: 2, timeout: 2000})
    expect(inventory.proxy.listen).to.deep.include({httpPort: 80, httpsPort: 443})
    expect(inventory.web[0].port).to.equal(80)
    const [shard] = inventory.shards
    expect(shard.prosody.port).to.equal(5280)
    expect(shard.jicofo).to.deep.equal({address: '10.0.0.10', port: 8888})
    expect(shard.jvbs[0]).to.deep.include({colibriPort: 9090, restPort: 8080})
    expect(inventory.targets.haproxy).to.deep.include({hardStopAfter: 1_800_000, socket: '/run/haproxy/admin.sock'})
    expect(inventory.targets.relayd.prefork).to.equal(3)
  })

  it('accepts an inventory that sets every field', () => {
    expect(Inventory.safeParse(fullInventory()).success).to.equal(true)
  })

  it('parses durations in ms, s, m, h and bare milliseconds', () => {
    const data = smallInventory()
    data.health = {interval: '1m', timeout: 750}
    data.targets = {haproxy: {hardStopAfter: '2h'}}
    const inventory = Inventory.parse(data)
    expect(inventory.health.interval).to.equal(60_000)
    expect(inventory.health.timeout).to.equal(750)
    expect(inventory.targets.haproxy.hardStopAfter).to.equal(7_200_000)
  })

  it('the full fixture sets every string field the schema has', () => {
    const full = fullInventory()
    for (const path of stringFieldPaths()) expect(getPath(full, path), path).to.not.equal(undefined)
  })

  for (const path of stringFieldPaths()) {
    for (const [label, value] of Object.entries(HOSTILE)) {
      it(`rejects ${label} in ${path}, naming the field, and so does the JSON Schema`, async () => {
        const data = fullInventory()
        setPath(data, path, value)
        const report = parseInventory(stringify(data), 'hostile.yaml')
        expect(report.inventory).to.equal(undefined)
        expect(report.problems.map((p) => p.path)).to.include(path)
        const validate = await shippedSchemaValidator()
        expect(validate(data), `JSON Schema accepted ${label} in ${path}`).to.equal(false)
        const pointer = `/${path.replaceAll(/\[(\d+)\]/g, '.$1').replaceAll('.', '/')}`
        expect(validate.errors!.map((e) => e.instancePath)).to.include(pointer)
      })
    }
  }

  describe('the shipped JSON Schema', () => {
    it('describes every field for editors, with the text schema.ts gives it (one text per field)', async () => {
      const schema = JSON.parse(await readFile(JSON_SCHEMA_FILE, 'utf8'))
      const fields = inventoryFields()
      for (const {description, path} of fields) {
        expect(nodeAt(schema, path.replaceAll('[]', '.[]').split('.'))?.description, path).to.equal(description).and.not.equal('')
      }

      // A description given to a shared schema (`address`, `port`) would show on every field built from it.
      const descriptions = fields.map((f) => f.description)
      expect(descriptions.filter((d, i) => descriptions.indexOf(d) !== i)).to.deep.equal([])
    })

    it('is the one the zod schema gives today (npm run build writes it)', async () => {
      expect(JSON.parse(await readFile(JSON_SCHEMA_FILE, 'utf8'))).to.deep.equal(inventoryJsonSchema())
    })

    it('accepts every inventory zod accepts: the examples, the fixtures, their variants and init\'s starters', async () => {
      const validate = await shippedSchemaValidator()
      const cases: Record<string, unknown> = {full: fullInventory(), small: smallInventory()}
      for (const file of ['examples/single-host-vmm.yaml', 'examples/two-shards.yaml']) cases[file] = parse(await readFile(file, 'utf8'))
      for (const [label, change] of Object.entries(INVENTORY_VARIANTS)) {
        const data = smallInventory()
        change(data)
        cases[label] = data
      }

      const starter = {domain: 'meet.example.org', jvb: {address: '10.0.0.21'}, listen: '192.0.2.10', prosody: {address: '10.0.0.10', port: 5281}, web: {address: '10.0.0.2'}}
      cases['init haproxy'] = parse(starterInventory({...starter, target: 'haproxy'}, '/s.json'))
      cases['init relayd'] = parse(starterInventory({...starter, target: 'relayd'}, '/s.json'))
      cases['init --from-paper'] = parse(starterInventory(paperAnswers('meet.example.org', '203.0.113.10'), '/s.json', true))
      for (const [label, data] of Object.entries(cases)) {
        expect(Inventory.safeParse(data).success, `zod: ${label}`).to.equal(true)
        expect(validate(data), `JSON Schema: ${label}: ${JSON.stringify(validate.errors)}`).to.equal(true)
      }
    })

    it('refuses what zod refuses for its type, range, unknown keys and missing fields', async () => {
      const validate = await shippedSchemaValidator()
      const changes: Record<string, (data: Record<string, any>) => void> = {
        'a duration that is not one': (d) => (d.health = {interval: '5 seconds'}),
        'a missing domain': (d) => delete d.domain,
        'a missing prosody': (d) => delete d.shards[0].prosody,
        'a number as a name': (d) => (d.web[0].name = 7),
        'a port out of range': (d) => (d.web[0].port = 70_000),
        'a relative path': (d) => (d.proxy.tls.certificate = 'meet.pem'),
        'a string as a port': (d) => (d.shards[0].prosody.port = '5280'),
        'a whole number that is a fraction': (d) => (d.health = {rise: 1.5}),
        'an unknown key at the top': (d) => (d.helth = {}),
        'an unknown key in a list item': (d) => (d.shards[0].jvbs[0].colibri = 9090),
        'an unknown syslog facility': (d) => (d.targets = {haproxy: {logFacility: 'kern'}}),
        'no shard': (d) => (d.shards = []),
        'no web node': (d) => (d.web = []),
      }
      for (const [label, change] of Object.entries(changes)) {
        const data = smallInventory()
        change(data)
        expect(Inventory.safeParse(data).success, `zod: ${label}`).to.equal(false)
        expect(validate(data), `JSON Schema: ${label}`).to.equal(false)
      }
    })
  })

  it('a C1 control or line separator in a path that the path pattern lets through is named as such', () => {
    for (const character of ['\u0085', '\u0080', '\u009F', '\u2028', '\u2029']) {
      const data = fullInventory()
      data.proxy.tls.certificate = `/etc/ssl/meet${character}.pem`
      const {problems} = parseInventory(stringify(data), 'c1.yaml')
      expect(problems.map((p) => `${p.path}: ${p.message}`), JSON.stringify(character)).to.deep.equal(['proxy.tls.certificate: must not contain control characters or line separators'])
    }
  })

  it('rejects relative paths, ports out of range and unknown keys', () => {
    const data = fullInventory()
    data.proxy.tls.certificate = 'certs/meet.pem'
    data.shards[0].prosody.port = 70_000
    data.shards[1].jvbs[0].colibriPort = 0
    data.web[0].weight = 3
    const {problems} = parseInventory(stringify(data), 'bad.yaml')
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]))
    expect(byPath['proxy.tls.certificate']).to.equal('must be an absolute path')
    expect(byPath['shards[0].prosody.port']).to.equal('must be 1..65535')
    expect(byPath['shards[1].jvbs[0].colibriPort']).to.equal('must be 1..65535')
    expect(byPath['web[0].weight']).to.equal('unknown key `weight`; known keys here: address, name, port')
  })

  it('reports an unknown key at its own line, with the known key it is closest to', () => {
    const text = ['domain: meet.example.org', 'proxy:', '  listen:', '    ipv4: 192.0.2.1', '    httpsPrt: 443', '  tls: {certificate: /a.pem, key: /a.pem}', 'web:', '  - {name: web1, address: 10.0.0.2}', 'shards:', '  - name: s1', '    prosody: {address: 10.0.0.3}', 'helth:', '  interval: 5s'].join('\n')
    const {problems} = parseInventory(text, 'keys.yaml')
    expect(problems).to.deep.include({line: 5, message: 'unknown key `httpsPrt`; did you mean `httpsPort`?', path: 'proxy.listen.httpsPrt'})
    expect(problems).to.deep.include({line: 12, message: 'unknown key `helth`; did you mean `health`?', path: 'helth'})
  })

  it('says in plain words what a wrong type or a missing field should be', () => {
    const data = smallInventory()
    data.web[0].port = '80'
    data.health = {interval: true, rise: 1.5}
    data.shards[0].jvbs = 'jvb1'
    delete data.shards[0].prosody
    data.targets = {haproxy: {logFacility: 'locl0'}}
    const byPath = Object.fromEntries(parseInventory(stringify(data), 'types.yaml').problems.map((p) => [p.path, p.message]))
    expect(byPath).to.deep.equal({
      'health.interval': 'must be a duration such as "500ms", "5s", "2m" or "1h" (or a number of milliseconds), not true',
      'health.rise': 'must be a whole number, not the fraction 1.5',
      'shards[0].jvbs': 'must be a list (lines starting with "- "), not the text "jvb1"',
      'shards[0].prosody': 'is missing: expected a mapping of keys to values',
      'targets.haproxy.logFacility': 'must be one of daemon, local0, local1, local2, local3, local4, local5, local6, local7, user, not the text "locl0"; did you mean `local0`?',
      'web[0].port': 'must be a number, not the text "80"',
    })
  })

  it('rejects addresses that are neither IP literals nor hostnames', () => {
    for (const address of ['300.1.1.1', '10.0.0.1:80', '-bad.example', 'a..b', 'host_name', '']) {
      const data = smallInventory()
      data.web[0].address = address
      expect(parseInventory(stringify(data), 'x.yaml').problems.map((p) => p.path), address).to.deep.equal(['web[0].address'])
    }
  })

  it('names the line of the offending field', () => {
    const text = ['domain: meet.example.org', 'proxy:', '  listen: {ipv4: 192.0.2.1}', '  tls: {certificate: /a.pem, key: /a.pem}', 'web:', '  - {name: web1, address: 10.0.0.2}', 'shards:', '  - name: s1', '    prosody:', '      address: "10.0.0.3\\n"'].join('\n')
    const {problems} = parseInventory(text, 'lines.yaml')
    expect(problems).to.deep.equal([{line: 10, message: 'must not contain control characters or line separators', path: 'shards[0].prosody.address'}])
  })

  it('reports YAML syntax errors with their line', () => {
    const {inventory, problems} = parseInventory('domain: meet.example.org\nweb: [\n', 'broken.yaml')
    expect(inventory).to.equal(undefined)
    expect(problems[0].message).to.match(/^YAML: /)
    expect(problems[0].line).to.be.a('number')
  })

  it('rejects duplicate keys instead of silently keeping the last', () => {
    const {problems} = parseInventory('domain: a.example.org\ndomain: b.example.org\n', 'dup.yaml')
    expect(problems[0].message).to.match(/YAML: .*unique/i)
  })

  it('requires a shard with a prosody and a web node', () => {
    const data = smallInventory()
    data.web = []
    delete data.shards[0].prosody
    const paths = parseInventory(stringify(data), 'x.yaml').problems.map((p) => p.path)
    expect(paths).to.include.members(['web', 'shards[0].prosody'])
  })

  it('accepts both shipped examples', async () => {
    for (const file of ['examples/single-host-vmm.yaml', 'examples/two-shards.yaml']) {
      const report = parseInventory(await readFile(file, 'utf8'), file)
      expect(report.problems, file).to.deep.equal([])
    }
  })
})
