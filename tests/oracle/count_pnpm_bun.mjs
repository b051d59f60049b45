// Regenerates tests/oracle/pnpm_bun_counts.json: how pnpm and bun themselves read the corpus
// pnpm-lock.yaml and bun.lock files.
//
// pnpm: the lockfile readers pnpm ships as packages. lockfileVersion 9 files are read with
// @pnpm/lockfile.fs (readWantedLockfile, pnpm 10), lockfileVersion 5.4 with @pnpm/lockfile-file
// 8 (pnpm 8, the last reader that loads v5 files as they are). Names and versions come from
// their nameVerFromPkgSnapshot, reachability and depths from their lockfile walker. pnpm's own
// readWantedLockfile skips the env document of a two-document file (pnpm 11); that document is
// read separately by the same reader, with its packageManagerDependencies/configDependencies
// walked as the entry points.
// bun: the bun binary itself (`bun pm ls --all`, `--prod`, and `bun pm ls` for the direct
// dependencies) in a temp dir holding only the bun.lock and an empty package.json; the tree it
// prints is turned back into bun.lock install paths (parent path + "/" + install name).
//
//   a=$(mktemp -d) && (cd "$a" && npm init -y >/dev/null && npm install @pnpm/lockfile.fs@1001.1.35 \
//     @pnpm/lockfile.walker@1001.0.26 @pnpm/lockfile.utils@1004.0.6 bun@1.4.5)
//   b=$(mktemp -d) && (cd "$b" && npm init -y >/dev/null && npm install @pnpm/lockfile-file@8.1.8 \
//     @pnpm/lockfile-walker@7.0.9 @pnpm/lockfile-utils@9.0.6)
//   ORACLE_MODULES="$a/node_modules" ORACLE_PNPM8_MODULES="$b/node_modules" \
//     node tests/oracle/count_pnpm_bun.mjs > tests/oracle/pnpm_bun_counts.json
//
// (Two folders because pnpm 8's and pnpm 10's readers want different @pnpm/logger peers. npm 11
// skips bun's postinstall; its bin still runs the binary shipped in @oven/bun-<platform>.)
// Run from the project root with ../shared beside it. Nothing from the lockfiles is executed:
// `bun pm ls` only reads the lockfile and runs no lifecycle script.
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const modules = process.env.ORACLE_MODULES
const modules8 = process.env.ORACLE_PNPM8_MODULES
if (!modules || !modules8) {
  throw new Error('set ORACLE_MODULES and ORACLE_PNPM8_MODULES to the node_modules folders of the installs above')
}
const require = createRequire(join(modules, '..', 'package.json'))
const require8 = createRequire(join(modules8, '..', 'package.json'))
// Read from disk: the packages' `exports` do not expose their package.json.
const versionIn = (dir, name) => JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')).version

const pnpm10 = {
  fs: require('@pnpm/lockfile.fs'),
  walker: require('@pnpm/lockfile.walker'),
  utils: require('@pnpm/lockfile.utils'),
  label: `@pnpm/lockfile.fs@${versionIn(modules, '@pnpm/lockfile.fs')}`,
}
const pnpm8 = {
  fs: require8('@pnpm/lockfile-file'),
  walker: require8('@pnpm/lockfile-walker'),
  utils: require8('@pnpm/lockfile-utils'),
  label: `@pnpm/lockfile-file@${versionIn(modules8, '@pnpm/lockfile-file')}`,
}
const bun = join(modules, '.bin', 'bun')

const shared = resolve(process.cwd(), '..', 'shared')
const pnpmInputs = [
  ['corpus/lockfiles/vuejs-core/pnpm-v5.4/pnpm-lock.yaml', pnpm8],
  ['corpus/lockfiles/vuejs-core/pnpm-v9/pnpm-lock.yaml', pnpm10],
  ['corpus/lockfiles/vuejs-core/pnpm-v9-multidoc/pnpm-lock.yaml', pnpm10],
]
const bunInputs = ['corpus/lockfiles/hono/bun-lock/bun.lock']

const sha256 = (text) => createHash('sha256').update(text).digest('hex')
const sorted = (values) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
const listDigest = (values) => sha256(sorted(values).join('\n'))
function histogram (values) {
  const counts = {}
  for (const v of values) counts[v] = (counts[v] || 0) + 1
  return counts
}

async function readLockfile (reader, text) {
  const dir = mkdtempSync(join(tmpdir(), 'pnpm-oracle-'))
  try {
    writeFileSync(join(dir, 'pnpm-lock.yaml'), text)
    return await reader.fs.readWantedLockfile(dir, { ignoreIncompatible: false })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// Shortest depth (1 = listed by an importer) of every depPath, breadth-first over the walker's
// steps: the walker marks a depPath when its parent is expanded, so level order gives minima.
function depths (reader, lockfile, importerIds, include) {
  const { step } = reader.walker.lockfileWalker(lockfile, importerIds, { include })
  const depth = new Map()
  let level = [step]
  for (let d = 1; level.length > 0; d++) {
    const next = []
    for (const s of level) {
      for (const dep of s.dependencies) {
        depth.set(dep.depPath, d)
        next.push(dep.next())
      }
    }
    level = next
  }
  return depth
}

function summarize (reader, lockfile) {
  const importerIds = Object.keys(lockfile.importers ?? {})
  const nameVer = (depPath) => {
    const { name, version } = reader.utils.nameVerFromPkgSnapshot(depPath, lockfile.packages[depPath])
    return `${name}@${version}`
  }
  const depPaths = Object.keys(lockfile.packages ?? {})
  const all = depths(reader, lockfile, importerIds, {})
  const prod = depths(reader, lockfile, importerIds, { devDependencies: false })
  const minDepth = new Map()
  for (const [depPath, d] of all) {
    const key = nameVer(depPath)
    if (!minDepth.has(key) || minDepth.get(key) > d) minDepth.set(key, d)
  }
  const pairs = new Set(depPaths.map(nameVer))
  const prodPairs = new Set([...prod.keys()].map(nameVer))
  const directPairs = new Set([...all].filter(([, d]) => d === 1).map(([p]) => nameVer(p)))
  return {
    importers: importerIds.length,
    depPaths: depPaths.length,
    distinct_name_version: pairs.size,
    name_version_sha256: listDigest(pairs),
    distinct_prod_name_version: prodPairs.size,
    prod_name_version_sha256: listDigest(prodPairs),
    distinct_direct_name_version: directPairs.size,
    direct_name_version_sha256: listDigest(directPairs),
    depth_histogram: histogram([...pairs].map((p) => (minDepth.has(p) ? String(minDepth.get(p)) : 'unreached'))),
  }
}

// pnpm 11's env document: its importer lists tooling instead of dependencies. The walker reads
// dependency fields only, so the tooling fields are handed to it as dependencies.
function summarizeTooling (reader, lockfile, rawImporter) {
  const fields = ['packageManagerDependencies', 'configDependencies']
  const dependencies = {}
  for (const field of fields) {
    for (const [name, spec] of Object.entries(rawImporter[field] ?? {})) {
      dependencies[name] = typeof spec === 'string' ? spec : spec.version
    }
  }
  const tooling = { ...lockfile, importers: { '.': { dependencies, specifiers: {} } } }
  return { fields: fields.filter((f) => Object.keys(rawImporter[f] ?? {}).length > 0), ...summarize(reader, tooling) }
}

const out = {
  note: 'Counts as read by pnpm and bun themselves; see tests/oracle/count_pnpm_bun.mjs for the ' +
    'readers, and regenerate with the command in its header (never edit by hand).',
  node: process.version,
  pnpm_readers: [pnpm8.label, pnpm10.label],
  bun: execFileSync(bun, ['--version'], { encoding: 'utf8' }).trim(),
  pnpm: {},
  bun_lock: {},
}

for (const [rel, reader] of pnpmInputs) {
  const bytes = readFileSync(join(shared, rel))
  const text = bytes.toString('utf8')
  const entry = { sha256: sha256(bytes), reader: reader.label }
  const lockfile = await readLockfile(reader, text)
  entry.lockfileVersion = String(lockfile.lockfileVersion)
  entry.project = summarize(reader, lockfile)
  if (text.startsWith('---\n') && text.indexOf('\n---\n', 4) !== -1) {
    const first = text.slice(0, text.indexOf('\n---\n', 4) + 1)
    const envLockfile = await readLockfile(reader, first)
    // pnpm's own YAML loader (the js-yaml fork its lockfile reader depends on).
    const yaml = createRequire(require.resolve('@pnpm/lockfile.fs'))('js-yaml')
    const rawImporter = yaml.load(first).importers['.']
    entry.tooling = summarizeTooling(reader, envLockfile, rawImporter)
  }
  out.pnpm[rel] = entry
}

// `bun pm ls --all` prints one line per packages entry, nested as the install paths are.
function bunTree (dir, args) {
  const text = execFileSync(bun, ['pm', 'ls', ...args], { cwd: dir, encoding: 'utf8' })
  const entries = []
  const stack = []
  for (const line of text.split('\n').slice(1)) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.+)$/.exec(line)
    if (!m) continue
    const depth = m[1].length / 4
    const at = m[2].indexOf('@', 1)
    const name = m[2].slice(0, at)
    stack.length = depth
    stack.push(name)
    entries.push({ path: stack.join('/'), spec: m[2].slice(at + 1) })
  }
  return entries
}

for (const rel of bunInputs) {
  const bytes = readFileSync(join(shared, rel))
  const dir = mkdtempSync(join(tmpdir(), 'bun-oracle-'))
  try {
    writeFileSync(join(dir, 'bun.lock'), bytes)
    writeFileSync(join(dir, 'package.json'), '{}\n')
    const installed = (args) => bunTree(dir, args).filter((e) => !e.spec.startsWith('workspace:'))
    const all = installed(['--all'])
    const prod = installed(['--all', '--prod'])
    const direct = installed([])
    const lines = (entries) => entries.map((e) => `${e.path}@${e.spec}`)
    out.bun_lock[rel] = {
      sha256: sha256(bytes),
      entries: all.length,
      path_version_sha256: listDigest(lines(all)),
      entries_prod: prod.length,
      prod_path_version_sha256: listDigest(lines(prod)),
      root_direct: sorted(direct.map((e) => e.path)),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

process.stdout.write(JSON.stringify(out, null, 2) + '\n')
