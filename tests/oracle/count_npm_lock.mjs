// Regenerates tests/oracle/npm_lock_counts.json: how npm itself reads the corpus lockfiles.
//
// npm's own reader is @npmcli/arborist's loadVirtual (what `npm ls --package-lock-only` uses);
// it ships inside npm, so no install is needed. Each lockfile is copied into a fresh temp dir
// with no package.json, so arborist takes the root's declared dependencies from the lockfile's
// own root entry (v2/v3) and reads nothing else of ours.
//
//   node tests/oracle/count_npm_lock.mjs > tests/oracle/npm_lock_counts.json
//
// Run from the project root with ../shared beside it. ARBORIST may point at another arborist.
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const require = createRequire(import.meta.url)
const arboristPath = process.env.ARBORIST ||
  join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm/node_modules/@npmcli/arborist')
const Arborist = require(arboristPath)
const arboristVersion = require(join(arboristPath, 'package.json')).version
const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()

const shared = resolve(process.cwd(), '..', 'shared')
const inputs = [
  'corpus/lockfiles/jquery/lock-v1/package-lock.json',
  'corpus/lockfiles/jquery/lock-v3/package-lock.json',
]

// Installed packages only: the root, link entries and local folders (workspaces, file: dirs,
// whose location has no node_modules segment) are not registry packages.
const isInstalled = (node) => !node.isRoot && !node.isLink && /(^|\/)node_modules\//.test(node.location)

// Breadth-first over arborist's edges from the root and every local folder (workspaces).
function shortestDepths (tree) {
  const depth = new Map()
  const queue = []
  for (const node of tree.inventory.values()) {
    if (!node.isLink && (node.isRoot || !/(^|\/)node_modules\//.test(node.location))) {
      depth.set(node, 0)
      queue.push(node)
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]
    for (const edge of node.edgesOut.values()) {
      const to = edge.to?.isLink ? edge.to.target : edge.to
      if (to && !depth.has(to)) {
        depth.set(to, depth.get(node) + 1)
        queue.push(to)
      }
    }
  }
  return depth
}

function histogram (values) {
  const counts = {}
  for (const v of values) counts[v] = (counts[v] || 0) + 1
  return counts
}

const out = {
  note: 'Counts as read by npm itself (@npmcli/arborist loadVirtual on a temp dir holding only the lockfile). ' +
    'Regenerate: node tests/oracle/count_npm_lock.mjs > tests/oracle/npm_lock_counts.json',
  npm: npmVersion,
  arborist: arboristVersion,
  files: {},
}
for (const rel of inputs) {
  const bytes = readFileSync(join(shared, rel))
  const dir = mkdtempSync(join(tmpdir(), 'npm-oracle-'))
  try {
    writeFileSync(join(dir, 'package-lock.json'), bytes)
    const tree = await new Arborist({ path: dir }).loadVirtual()
    const nodes = [...tree.inventory.values()].filter(isInstalled)
    const pairs = new Set(nodes.map((n) => `${n.packageName}@${n.version}`))
    const prodPairs = new Set(nodes.filter((n) => !n.dev).map((n) => `${n.packageName}@${n.version}`))
    const depths = shortestDepths(tree)
    const data = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''))
    out.files[rel] = {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      lockfileVersion: data.lockfileVersion,
      entries: nodes.length,
      distinct_name_version: pairs.size,
      // v1 flags are recomputed by arborist when no package.json states the root's deps, so
      // the dev split is only npm's own word for v2/v3.
      entries_dev: data.lockfileVersion >= 2 ? nodes.filter((n) => n.dev).length : null,
      distinct_prod_name_version: data.lockfileVersion >= 2 ? prodPairs.size : null,
      entries_aliased: nodes.filter((n) => n.packageName !== n.name).length,
      entries_bundled: nodes.filter((n) => n.inBundle).length,
      // How many entries sit at each shortest chain length from a dependency declared by the
      // root or a workspace (1 = direct), following arborist's own resolved edges; v1 roots
      // declare nothing without package.json, so v1 has none.
      path_lengths: data.lockfileVersion >= 2 ? histogram(nodes.map((n) => depths.get(n) ?? 'unreached')) : null,
      // sha256 of the sorted distinct "name@version" lines joined by "\n": the exact set, small.
      name_version_sha256: createHash('sha256').update([...pairs].sort().join('\n')).digest('hex'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n')
