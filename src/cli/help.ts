import {execute} from '@oclif/core'

/*
 * Entry of the help bundle (dist/bundle/help.cjs, built by scripts/bundle.mjs): oclif itself in
 * one file that the compile cache keeps compiled, for `--help`, `-h` and a bare `jproxy`. Help
 * comes from oclif's own Help class and the manifest, as on every other path.
 */
export async function runHelp(argv: string[], root: string): Promise<boolean> {
  await execute({args: argv, dir: root})
  return true
}
