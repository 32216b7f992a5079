// `npm test` runs this first: the tests start real daemons, and a missing one should stop the
// run at once with the line that installs it, not fail deep in the suite. The list is
// test/requirements.json (program, Debian package, what needs it): add a line there for a new one.
import {accessSync, constants, readFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'

const requirements = JSON.parse(readFileSync(new URL('../test/requirements.json', import.meta.url), 'utf8'))
const onPath = (program) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir || '.', program), constants.X_OK)
      return true
    } catch {
      return false
    }
  })

const missing = requirements.filter((r) => !onPath(r.program))
if (missing.length > 0) {
  const lines = missing.map((r) => `  ${r.program.padEnd(16)} (Debian package ${r.debian}): ${r.for}`)
  const packages = [...new Set(missing.map((r) => r.debian))].join(' ')
  process.stderr.write(
    `npm test: missing on PATH:\n${lines.join('\n')}\ninstall: sudo apt-get install -y ${packages}\n(or run bash .ci/run, which installs them and runs the tests)\n`,
  )
  process.exit(1)
}
