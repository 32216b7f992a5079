import {expect} from 'chai'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {errorJson} from '../../src/cli/error-json.js'
import {ExitCode, JproxyError} from '../../src/errors.js'
import {smallInventory} from '../fixtures/inventories.js'
import {CLI_TIMEOUT_MS, runCli} from '../support/cli.js'

const KEYS = ['code', 'exitCode', 'file', 'line', 'message', 'path']

/** Runs the CLI with --json and checks the one-object shape every error has; returns the object. */
async function jsonError(args: string[], exitCode: number): Promise<Record<string, unknown>> {
  const {code, stderr, stdout} = await runCli([...args, '--json'])
  expect(code, stdout + stderr).to.equal(exitCode)
  expect(stdout.length, stdout).to.be.below(2048)
  expect(stdout).to.not.include(homedir() === '/' ? '/root/' : homedir()).and.not.include('node_modules').and.not.include('stack')
  const parsed = JSON.parse(stdout)
  expect(Object.keys(parsed)).to.deep.equal(['error'])
  expect(KEYS).to.include.members(Object.keys(parsed.error))
  expect(parsed.error.exitCode).to.equal(exitCode)
  expect(ExitCode[parsed.error.code as keyof typeof ExitCode]).to.equal(exitCode)
  return parsed.error
}

describe('errors under --json: one small object with the documented exit code', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-json-errors-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('an unknown flag is usage (2), without oclif internals', async () => {
    const error = await jsonError(['gen', 'haproxy', '--bogus'], ExitCode.usage)
    expect(error).to.deep.equal({code: 'usage', exitCode: 2, message: 'Nonexistent flag: --bogus\nSee more help with --help'})
  })

  it('a flag value its parser refuses is usage (2)', async () => {
    const error = await jsonError(['probe', '--timeout', 'soon'], ExitCode.usage)
    expect(error.message).to.include('"soon" is not a duration')
  })

  it('an inventory error carries the file, and with one problem its line and field path', async function () {
    this.timeout(2 * CLI_TIMEOUT_MS + 5000)
    expect(await jsonError(['validate', 'dns', '-i', join(dir, 'absent.yaml')], ExitCode.inventoryUnreadable)).to.include({code: 'inventoryUnreadable', file: join(dir, 'absent.yaml')})
    const data = smallInventory()
    data.web[0].address = 'not an address'
    const file = join(dir, 'bad.yaml')
    await writeFile(file, stringify(data))
    const error = await jsonError(['gen', 'haproxy', '-i', file], ExitCode.inventoryInvalid)
    expect(error).to.include({code: 'inventoryInvalid', file, path: 'web[0].address'})
    expect(error.line).to.be.a('number')
  })

  it('a write error names the path; an unreadable file to lint is inputUnreadable', async function () {
    this.timeout(2 * CLI_TIMEOUT_MS + 5000)
    expect(await jsonError(['gen', 'haproxy', '-i', 'examples/two-shards.yaml', '-o', '/dev/full'], ExitCode.writeFailed)).to.include({code: 'writeFailed', path: '/dev/full'})
    expect(await jsonError(['lint', 'relayd', '/dev/zero'], ExitCode.inputUnreadable)).to.include({code: 'inputUnreadable', file: '/dev/zero'})
  })

  it('an unexpected error is failure (1) with its message only', () => {
    const unexpected = new TypeError('x is not a function')
    expect(errorJson(unexpected)).to.deep.equal({error: {code: 'failure', exitCode: 1, message: 'x is not a function'}})
    expect(errorJson(Object.assign(new Error('odd'), {exitCode: 77}))).to.deep.equal({error: {code: 'failure', exitCode: 1, message: 'odd'}})
    expect(errorJson(new JproxyError('busy', 'held', {path: '/run/lock'}))).to.deep.equal({error: {code: 'busy', exitCode: 10, message: 'held', path: '/run/lock'}})
  })
})
