// Regenerates tests/oracle/yarn_lock_counts.json: how yarn itself reads yarn.lock files.
//
// Three inputs:
//  * the corpus Berry lockfile (../shared/corpus/lockfiles/redux/yarn-berry/yarn.lock), read with
//    yarn's own Berry parser (parseSyml from @yarnpkg/parsers);
//  * a classic lockfile written by real yarn 1 for a small package.json (SAMPLE below), read with
//    yarn 1's own parser (@yarnpkg/lockfile), and installed twice by yarn 1: in full and with
//    --production, so which packages are dev-only is yarn's own word;
//  * a Berry lockfile written by real yarn 4 for the same package.json plus one workspace, installed
//    in full and with `yarn workspaces focus --all --production`.
// The generated manifests and lockfiles are stored in the JSON (they are small and ours), so the
// tests replay them offline. Nothing from ../shared is copied into the output.
//
// Install scripts never run: yarn 1 gets --ignore-scripts, yarn 4 --mode=skip-build.
//
//   tmp=$(mktemp -d) && (cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund \
//     @yarnpkg/parsers@3.1.0 @yarnpkg/lockfile@1.1.0 yarn@1.22.22 @yarnpkg/cli-dist@4.18.1) && \
//   TOOLS="$tmp" node tests/oracle/count_yarn_lock.mjs > tests/oracle/yarn_lock_counts.json
//
// Run from the project root with ../shared beside it. Needs the npm registry (registry.npmjs.org).
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const tools = resolve(process.env.TOOLS || process.cwd())
const require = createRequire(join(tools, 'package.json'))
const { parseSyml } = require('@yarnpkg/parsers')
const lockfile = require('@yarnpkg/lockfile')
const yarn1 = require.resolve('yarn/bin/yarn.js')
const yarn4 = require.resolve('@yarnpkg/cli-dist/bin/yarn.js')
const versionOf = (pkg) => JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version

const shared = resolve(process.cwd(), '..', 'shared')
const REGISTRY = 'https://registry.npmjs.org'

// A project small enough to read whole, with what yarn.lock parsers get wrong: several ranges
// sharing one entry (debug@4, debug@^4.3.4), two versions of one name (ms), an npm: alias, a
// scoped name, a tarball URL, an optionalDependencies block (chokidar -> fsevents), a package
// both dev and prod (strip-ansi), dev-only packages, and a root optional dependency.
const SAMPLE = {
  name: 'yarn-oracle-sample',
  version: '1.0.0',
  private: true,
  dependencies: {
    '@babel/runtime': '^7.23.0',
    'agent-base': '^6.0.2',
    chalk: '^4.1.2',
    debug: '^4.3.4',
    'left-pad': 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz',
    'string-width-cjs': 'npm:string-width@^4.2.0',
  },
  devDependencies: {
    chokidar: '^3.6.0',
    'is-number': '^7.0.0',
    ms: '2.0.0',
    'strip-ansi': '^6.0.1',
  },
  optionalDependencies: {
    isarray: '^2.0.5',
  },
}
// The Berry sample adds a workspace, whose dependencies Berry records in the lockfile; resolve
// brings Yarn's builtin compat patch.
const WORKSPACE = { name: '@oracle/lib', version: '0.1.0', dependencies: { resolve: '^1.22.4', inherits: '~2.0.3' } }

const sha256 = (text) => createHash('sha256').update(text).digest('hex')
const pairsSha = (pairs) => sha256([...pairs].sort().join('\n'))

function histogram (values) {
  const counts = {}
  for (const v of values) counts[v] = (counts[v] || 0) + 1
  return counts
}

// yarn's structUtils.parseLocator / parseDescriptor split: optional @scope/, name, then '@' and
// the reference (which may itself hold '@').
function splitIdent (text) {
  const m = text.match(/^(?:@([^/]+?)\/)?([^@/]+?)(?:@(.*))?$/)
  if (!m) throw new Error(`not a locator: ${text}`)
  return { name: m[1] ? `@${m[1]}/${m[2]}` : m[2], reference: m[3] ?? '' }
}

// A patch: reference wraps the locator it patches, URL-encoded before the '#'.
function unwrapPatch (locator) {
  let { name, reference } = splitIdent(locator)
  let patched = false
  while (reference.startsWith('patch:')) {
    patched = true;
    ({ name, reference } = splitIdent(decodeURIComponent(reference.slice('patch:'.length).split('#')[0])))
  }
  return { name, reference, patched }
}

const LOCAL = ['workspace:', 'link:', 'portal:', 'file:', 'exec:']

// Breadth-first depth (1 = declared) of every node, given roots and an edge function.
function depths (roots, edgesOf) {
  const depth = new Map()
  const queue = []
  for (const node of roots) {
    if (!depth.has(node)) { depth.set(node, 1); queue.push(node) }
  }
  for (let i = 0; i < queue.length; i++) {
    for (const next of edgesOf(queue[i])) {
      if (!depth.has(next)) { depth.set(next, depth.get(queue[i]) + 1); queue.push(next) }
    }
  }
  return depth
}

// How Berry reads its lockfile: parseSyml, then each entry's resolution; a dependency
// `name: range` is the entry whose key lists the descriptor `name@range`.
function berryCounts (text) {
  const lock = parseSyml(text)
  const entries = Object.entries(lock).filter(([key]) => key !== '__metadata')
  const byDescriptor = new Map()
  for (const [key, entry] of entries) {
    for (const descriptor of key.split(',')) byDescriptor.set(descriptor.trim(), entry)
  }
  const info = new Map()
  for (const [, entry] of entries) {
    const { name, reference, patched } = unwrapPatch(entry.resolution)
    const local = LOCAL.some((p) => reference.startsWith(p)) || entry.linkType === 'soft'
    info.set(entry, { pair: `${name}@${entry.version}`, local, patched, workspace: reference.startsWith('workspace:') })
  }
  const packages = [...info.values()].filter((i) => !i.local)
  const pairs = new Set(packages.map((i) => i.pair))
  // A dependency yarn finds by its descriptor; `resolutions` in package.json (not in the file)
  // can replace the range, so some descriptors are in no entry's key.
  const unresolved = new Set()
  const strict = (name, range) => {
    const entry = byDescriptor.get(`${name}@${range}`)
    if (!entry) unresolved.add(`${name}@${range}`)
    return entry
  }
  // The same, but a missing descriptor goes to the only locked package of its name, if one.
  const byName = new Map()
  for (const [, entry] of entries) {
    const i = info.get(entry)
    if (!i.local) byName.set(splitIdent(i.pair).name, [...(byName.get(splitIdent(i.pair).name) || []), entry])
  }
  const lenient = (name, range) => {
    const entry = byDescriptor.get(`${name}@${range}`)
    if (entry) return entry
    const real = range.startsWith('npm:') && /^(@[^/]+\/)?[^@/^~<>=*|\d][^@/]*(@|$)/.test(range.slice(4))
      ? splitIdent(range.slice(4)).name
      : name
    const found = byName.get(real) || []
    return found.length === 1 ? found[0] : undefined
  }
  const workspaces = entries.map(([, e]) => e).filter((e) => info.get(e).workspace)
  const reading = (lookup) => {
    const depsOf = (entry) => Object.entries(entry.dependencies || {})
      .map(([name, range]) => lookup(name, range))
      .filter((e) => e && !info.get(e).workspace)
    const roots = workspaces.flatMap(depsOf)
    const depth = depths(roots, depsOf)
    const pairDepth = new Map()
    for (const [entry, d] of depth) {
      const { pair, local } = info.get(entry)
      if (!local && (!pairDepth.has(pair) || d < pairDepth.get(pair))) pairDepth.set(pair, d)
    }
    return {
      direct: [...new Set(roots.filter((e) => !info.get(e).local).map((e) => info.get(e).pair))].sort(),
      // Shortest chain length from a workspace's declared dependency, per distinct name@version.
      path_lengths: histogram([...pairs].map((p) => pairDepth.get(p) ?? 'unreached')),
    }
  }
  const strictReading = reading(strict)
  return {
    lockfile_version: String(lock.__metadata.version),
    entries: entries.length,
    workspace_entries: workspaces.length,
    patch_entries: [...info.values()].filter((i) => i.patched).length,
    distinct_name_version: pairs.size,
    name_version_sha256: pairsSha(pairs),
    patched: [...new Set(packages.filter((i) => i.patched).map((i) => i.pair))].sort(),
    ...strictReading,
    unresolved_descriptors: [...unresolved].sort(),
    by_name: reading(lenient),
  }
}

// yarn 1's normalizePattern: name before the '@' that follows an optional leading scope '@';
// an npm: range names the real package.
function classicName (pattern) {
  const { name, reference } = splitIdent(pattern)
  if (reference.startsWith('npm:')) return splitIdent(reference.slice(4)).name
  return name
}

// How yarn 1 reads its lockfile: @yarnpkg/lockfile's parse gives one object per header, shared
// by every pattern of that header; yarn looks a dependency up by the pattern `name@range`.
function classicCounts (text, manifest) {
  const { type, object } = lockfile.parse(text)
  if (type !== 'success') throw new Error(`yarn 1 parse: ${type}`)
  const pairOf = new Map()
  for (const [pattern, entry] of Object.entries(object)) pairOf.set(entry, `${classicName(pattern)}@${entry.version}`)
  const pairs = new Set(pairOf.values())
  const depsOf = (entry) => Object.entries({ ...entry.dependencies, ...entry.optionalDependencies })
    .map(([name, range]) => object[`${name}@${range}`]).filter(Boolean)
  const declared = { ...manifest.devDependencies, ...manifest.dependencies, ...manifest.optionalDependencies }
  const roots = Object.entries(declared).map(([name, range]) => object[`${name}@${range}`]).filter(Boolean)
  const depth = depths(roots, depsOf)
  const pairDepth = new Map()
  for (const [entry, d] of depth) {
    const pair = pairOf.get(entry)
    if (!pairDepth.has(pair) || d < pairDepth.get(pair)) pairDepth.set(pair, d)
  }
  return {
    entries: pairOf.size,
    patterns: Object.keys(object).length,
    distinct_name_version: pairs.size,
    name_version_sha256: pairsSha(pairs),
    direct: [...new Set(roots.map((e) => pairOf.get(e)))].sort(),
    path_lengths: histogram([...pairs].map((p) => pairDepth.get(p) ?? 'unreached')),
  }
}

// name@version of every package folder yarn installed (workspace symlinks excluded).
function installed (dir) {
  const found = new Set()
  const walk = (nodeModules) => {
    if (!existsSync(nodeModules)) return
    for (const child of readdirSync(nodeModules)) {
      if (child.startsWith('.')) continue
      const folders = child.startsWith('@')
        ? readdirSync(join(nodeModules, child)).map((c) => join(nodeModules, child, c))
        : [join(nodeModules, child)]
      for (const folder of folders) {
        if (lstatSync(folder).isSymbolicLink() || !existsSync(join(folder, 'package.json'))) continue
        const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))
        found.add(`${pkg.name}@${pkg.version}`)
        walk(join(folder, 'node_modules'))
      }
    }
  }
  walk(join(dir, 'node_modules'))
  return [...found].sort()
}

function run (cwd, args, env = {}) {
  execFileSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } })
}

function classicSample () {
  const dir = mkdtempSync(join(tmpdir(), 'yarn1-oracle-'))
  const prod = mkdtempSync(join(tmpdir(), 'yarn1-oracle-prod-'))
  try {
    const manifest = JSON.stringify(SAMPLE, null, 2) + '\n'
    writeFileSync(join(dir, 'package.json'), manifest)
    const flags = ['--ignore-scripts', '--non-interactive', '--no-progress', '--registry', REGISTRY]
    run(dir, [yarn1, 'install', ...flags])
    const text = readFileSync(join(dir, 'yarn.lock'), 'utf8')
    cpSync(join(dir, 'package.json'), join(prod, 'package.json'))
    cpSync(join(dir, 'yarn.lock'), join(prod, 'yarn.lock'))
    run(prod, [yarn1, 'install', '--production', '--frozen-lockfile', ...flags])
    return {
      manifest,
      lockfile: text,
      lockfile_sha256: sha256(text),
      counts: classicCounts(text, SAMPLE),
      installed: installed(dir),
      installed_production: installed(prod),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    rmSync(prod, { recursive: true, force: true })
  }
}

function berrySample () {
  const dir = mkdtempSync(join(tmpdir(), 'yarn4-oracle-'))
  try {
    const root = { ...SAMPLE, workspaces: ['packages/*'], dependencies: { ...SAMPLE.dependencies, '@oracle/lib': 'workspace:^' } }
    const manifest = JSON.stringify(root, null, 2) + '\n'
    const workspace = JSON.stringify(WORKSPACE, null, 2) + '\n'
    writeFileSync(join(dir, 'package.json'), manifest)
    mkdirSync(join(dir, 'packages', 'lib'), { recursive: true })
    writeFileSync(join(dir, 'packages', 'lib', 'package.json'), workspace)
    writeFileSync(join(dir, 'yarn.lock'), '')
    const env = {
      YARN_NODE_LINKER: 'node-modules',
      YARN_NPM_REGISTRY_SERVER: REGISTRY,
      YARN_ENABLE_GLOBAL_CACHE: 'false',
      YARN_ENABLE_TELEMETRY: '0',
      YARN_ENABLE_IMMUTABLE_INSTALLS: 'false',
      COREPACK_ENABLE_STRICT: '0',
    }
    run(dir, [yarn4, 'install', '--mode=skip-build'], env)
    const text = readFileSync(join(dir, 'yarn.lock'), 'utf8')
    const full = installed(dir)
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true })
    run(dir, [yarn4, 'workspaces', 'focus', '--all', '--production'], env)
    // focus must not rewrite the lockfile, or the production install is of another tree
    if (readFileSync(join(dir, 'yarn.lock'), 'utf8') !== text) throw new Error('focus changed yarn.lock')
    return {
      manifest,
      workspace_manifests: { 'packages/lib/package.json': workspace },
      lockfile: text,
      lockfile_sha256: sha256(text),
      counts: berryCounts(text),
      installed: full,
      installed_production: installed(dir),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const out = {
  note: 'yarn.lock as yarn itself reads it (see the header of tests/oracle/count_yarn_lock.mjs for the command). ' +
    'Counts are per distinct name@version; local entries (workspace:, link:, portal:, file:, exec:) are not packages.',
  tools: {
    '@yarnpkg/parsers': versionOf('@yarnpkg/parsers'),
    '@yarnpkg/lockfile': versionOf('@yarnpkg/lockfile'),
    yarn: versionOf('yarn'),
    '@yarnpkg/cli-dist': versionOf('@yarnpkg/cli-dist'),
  },
  files: {},
  samples: {},
}
for (const rel of ['corpus/lockfiles/redux/yarn-berry/yarn.lock']) {
  const bytes = readFileSync(join(shared, rel))
  out.files[rel] = { sha256: createHash('sha256').update(bytes).digest('hex'), ...berryCounts(bytes.toString('utf8')) }
}
out.samples['yarn-classic'] = classicSample()
out.samples['yarn-berry'] = berrySample()
process.stdout.write(JSON.stringify(out, null, 2) + '\n')

