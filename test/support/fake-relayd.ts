import {chmod, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * relayd exists only on OpenBSD, so tests of the `relayd -n` hand-off use a stand-in: a script
 * named relayd in `dir` that records its arguments and the file it was given, prints `stderr`
 * and exits with `code`.
 */
export async function writeFakeRelayd(dir: string, stderr: string, code: number): Promise<string> {
  const path = join(dir, 'relayd')
  const script = `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/relayd.args"
while [ $# -gt 0 ]; do if [ "$1" = -f ]; then cp "$2" "${dir}/relayd.input" 2>/dev/null; fi; shift; done
printf '%s' '${stderr.replaceAll("'", String.raw`'\''`)}' >&2
exit ${code}
`
  await writeFile(path, script)
  await chmod(path, 0o755)
  return path
}
