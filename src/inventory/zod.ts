import {config} from 'zod/mini'
import en from 'zod/v4/locales/en.js'

// zod/mini costs a fraction of zod's start-up time and memory (the hot commands parse one
// inventory per run), but has no messages until a locale is set: English, as full zod has.
// Import it as a namespace (`import * as z`), so the bundle keeps only the functions used.
config(en())

export * from 'zod/mini'
