import {Config} from '@oclif/core/config'
import {flush} from '@oclif/core/flush'
import {handle} from '@oclif/core/handle'
import {loadHelpClass} from '@oclif/core/help'

/*
 * Entry of the help bundle (dist/bundle/help.cjs, built by scripts/bundle.mjs): oclif's config
 * and Help class in one file that the compile cache keeps compiled, for `--help`, `-h` and a bare
 * `jproxy`. Help comes from oclif's own Help class and the manifest, as on every other path, and
 * errors from oclif's handler; oclif's command runner and everything it loads stay out.
 */
export async function runHelp(argv: string[], root: string): Promise<boolean> {
  try {
    // jproxy has no plugin installer: no user or dev plugins to look for.
    const config = await Config.load({devPlugins: false, root, userPlugins: false})
    const Help = await loadHelpClass(config)
    const options = (config.pjson.oclif.helpOptions ?? config.pjson.helpOptions) as ConstructorParameters<typeof Help>[1]
    await new Help(config, options).showHelp(argv)
    await flush()
  } catch (error) {
    await handle(error as Error)
  }

  return true
}
