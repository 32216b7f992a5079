import {expect} from 'chai'

import {formatDiagnostic, lintRelaydConf} from '../../src/relayd/lint.js'
import {ACCEPTED, INCLUDED} from './accepted-configs.js'
import {REJECTED} from './rejected-configs.js'

const readFile = (path: string) => INCLUDED[path]
const errorsOf = (conf: string, file: string) => lintRelaydConf(conf, {file, readFile}).filter((d) => d.severity === 'error')

describe('relayd grammar conformance', () => {
  it('has at least 40 accepted and 40 rejected configurations', () => {
    expect(ACCEPTED.length).to.be.at.least(40)
    expect(REJECTED.length).to.be.at.least(40)
  })

  describe('accepts what relayd accepts', () => {
    for (const {conf, name} of ACCEPTED) {
      it(name, () => {
        expect(errorsOf(conf, 'relayd.conf').map((d) => formatDiagnostic(d))).to.deep.equal([])
      })
    }
  })

  describe('rejects what relayd rejects, first with relayd\'s message and line', () => {
    for (const {conf, error, name} of REJECTED) {
      it(`${name}: ${error.line}: ${error.message}`, () => {
        const [first] = errorsOf(conf, 'relayd.conf')
        expect(first, 'no error reported').to.not.equal(undefined)
        expect({line: first.line, message: first.message}).to.deep.equal(error)
      })
    }
  })
})
