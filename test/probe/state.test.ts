import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {damp, pendingFlip, type ProbeState, updateStateFile} from '../../src/probe/state.js'

const limits = {fall: 3, rise: 2}
const at = new Date('2026-11-26T00:00:00Z')

describe('probe state: rise/fall damping across runs', () => {
  it('goes down only after fall failures and up after rise successes', () => {
    let state = damp(undefined, 'up', limits, at)!
    const seen: string[] = []
    for (const health of ['down', 'down', 'down', 'up', 'up', 'transitional'] as const) {
      state = damp(state, health, limits, at)!
      seen.push(`${state.state}${state.flipped ? '!' : ''}`)
    }

    expect(seen).to.deep.equal(['up', 'up', 'down!', 'down', 'up!', 'up'])
  })

  it('says how far a state is from flipping while the checks disagree with it', () => {
    let state = damp(undefined, 'up', limits, at)!
    const pending: unknown[] = []
    for (const health of ['down', 'down', 'down', 'up', 'up', 'transitional']) {
      state = damp(state, health as 'down' | 'transitional' | 'up', limits, at)!
      pending.push(pendingFlip(state, limits))
    }

    expect(pending).to.deep.equal([
      {checks: 1, needed: 3, toward: 'down'},
      {checks: 2, needed: 3, toward: 'down'},
      undefined,
      {checks: 1, needed: 2, toward: 'up'},
      undefined,
      {checks: 1, needed: 3, toward: 'down'},
    ])
  })

  it('takes what a first sighting sees, undamped, as docs/probing.md says: up quietly, down at once as a change', () => {
    expect(damp(undefined, 'up', limits, at)).to.deep.include({flipped: false, state: 'up'})
    let state = damp(undefined, 'down', limits, at)!
    expect(state).to.deep.include({failures: 1, flipped: true, state: 'down'})
    const seen: string[] = []
    for (const health of ['up', 'up'] as const) {
      state = damp(state, health, limits, at)!
      seen.push(`${state.state}${state.flipped ? '!' : ''}`)
    }

    expect(seen, `rise ${limits.rise} good checks to come up`).to.deep.equal(['down', 'up!'])
  })

  it('lets unknown change nothing', () => {
    const up = damp(undefined, 'up', limits, at)!
    expect(damp(up, 'unknown', limits, at)).to.deep.include({failures: 0, flipped: false, state: 'up', successes: 1})
    expect(damp(undefined, 'unknown', limits, at)).to.equal(undefined)
  })

  describe('the state file', () => {
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jproxy-state-'))
    })
    afterEach(async () => {
      await rm(dir, {force: true, recursive: true})
    })

    const bump = (state: ProbeState) => {
      const previous = state.backends.x?.successes ?? 0
      return {result: previous + 1, state: {backends: {x: {changed: '', failures: 0, state: 'up' as const, successes: previous + 1}}, version: 1 as const}}
    }

    it('rebuilds a corrupt file with a clear warning instead of crashing', async () => {
      const file = join(dir, 'state.json')
      await writeFile(file, '{"backends": {"x": ')
      const warnings: string[] = []
      expect(await updateStateFile(file, (w) => warnings.push(w), bump)).to.equal(1)
      expect(warnings).to.have.length(1)
      expect(warnings[0]).to.include(file).and.include('not valid JSON')
      expect(JSON.parse(await readFile(file, 'utf8')).backends.x.successes).to.equal(1)
    })

    it('applies concurrent runs one after the other, losing none', async () => {
      const file = join(dir, 'sub', 'state.json')
      await Promise.all(Array.from({length: 20}, () => updateStateFile(file, () => {}, bump)))
      expect(JSON.parse(await readFile(file, 'utf8')).backends.x.successes).to.equal(20)
    })
  })
})
