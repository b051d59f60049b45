// Generates tests/oracle/semver_oracle.json with npm's own `semver` package.
//
// The Python module ircore/semver.py must agree with npm on every row; this file is the
// ground truth, generated once and committed. Regenerate (never hand-edit the JSON):
//
//   tmp=$(mktemp -d) && cd "$tmp" && npm init -y >/dev/null && npm install semver
//   node /path/to/repo/tests/oracle/generate_semver_oracle.mjs
//
// `semver` is resolved from the current working directory so the repository never needs a
// node_modules folder. The output is deterministic (no timestamps) so a regeneration with
// the same semver version yields an identical file.

import { createRequire } from 'node:module'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const require = createRequire(join(process.cwd(), 'noop.js'))
const semver = require('semver')
const semverVersion = require('semver/package.json').version

// Ranges: grouped by the npm feature they exercise. Invalid strings are kept on purpose.
const RANGES = [
  // caret, including the 0.x rules and partial versions
  '^1.2.3', '^0.2.3', '^0.0.3', '^0.0', '^0', '^0.x', '^0.0.x', '^1.2', '^1.2.x', '^1.x', '^1',
  '^1.2.3-beta.2', '^0.0.1-beta', '^2.0.0-rc.1', '^ 1.2.3', '^*', '^v1.2.3', '^1.2.3+build.7',
  // tilde, including ~>
  '~1.2.3', '~1.2', '~1', '~0.2.3', '~0.0.1', '~>1.2.3', '~> 1.2', '~ 1.2', '~1.2.3-beta.2', '~0',
  '~*', '~>1', '~1.x',
  // x-ranges, partial versions, stars and the empty range
  '*', '', 'x', 'X', 'x.x.x', '1.x', '1.2.x', '1.X.x', '1.*', '1.2.*', '1', '1.2', '>1', '>1.2',
  '<1.2', '<=1.2', '>=1.2', '<=1.x', '>1.x', '=1.x', '>=*', '>*', '<*', '<x', '1.x.3', '*.1',
  // hyphen ranges
  '1.2.3 - 2.3.4', '1.2 - 2.3.4', '1.2.3 - 2.3', '1.2.3 - 2', '1.2.3-beta - 2.0.0',
  '1.2.3 - 2.0.0-rc.1', 'v1.2.3 - v2.0.0', '* - 2', '1.2.3 - *', '1.2.3 -2.0.0', '1.2.3 - 2.3.4 || 3.0.0',
  '1.0.0-alpha - 1.0.0', '1.2.3 - ', ' - 1.2.3',
  // plain comparators, spacing inside and between them
  '>=1.2.3 <2.0.0', '>= 1.2.3 < 2.0.0', '  >=   1.2.3   <   2.0.0  ', '>=\t1.2.3', '> 1.2.3',
  '<2.0.0', '<=2.0.0', '>1.2.3-alpha', '=1.2.3', '1.2.3', 'v1.2.3', '=v1.2.3', ' = 1.2.3',
  '>=1.4.4-lts.1 <2.0.0', '<0.0.0-0', '>=0.0.0', '>=0.0.0-0', '<1.0.0-0', '>1.0.0-alpha <1.0.0',
  '>=1.0.0-alpha', '<2.0.0-rc.2', '>=1.2.3 <1.0.0', '<1.2.3 >=1.2.3', '>=1.2.3 >=1.2.3',
  // ||
  '1.2.3 || 2.x', '^1.0.0 || ^2.0.0', '<1.0.0 || >=2.0.0', '1.2.3 ||', '|| 1.2.3', '||',
  '1.2.3 | 2.0.0', '1.2.3||2.0.0', '<0.0.0-0 || 1.2.3', '1.2.3\n|| 2.0.0', '<0.0.0-0 - x',
  '<0.0.0-0 blerg', '<0.0.0-0 || blerg',
  // build metadata (stripped by npm before comparing)
  '1.2.3+build', '>=1.2.3+build.1 <2', '1.2.3+', '=1.2.3+a.b.c', '^1.2.3+',
  // GHSA spelling (commas) that npm itself does not accept in strict mode
  '>= 1.0.0, < 1.2.3', '>=1.2.3, <2.0.0', '>= 1.4.4-lts.1, < 2.0.0',
  // loose-only spellings
  '01.2.3', '>=01.02.03', '1.2.3beta', '~1.2.3beta', '1.2.3-01', '==1.2.3', '>=1.2.3-beta.01',
  '~v1.2', 'v1', '>v1.2.3',
  // Unicode whitespace (JS \s) and non-ASCII digits (not digits for JS)
  '\u00a0^1.2.3', '^1.2.3\ufeff', '>=\u20031.2.3', '^\u0661.2.3', '\uff11.2.3',
  // huge numbers around Number.MAX_SAFE_INTEGER
  '^9007199254740991.0.0', '1.2.9007199254740991', '1.2.9007199254740992', '~9007199254740990.9007199254740991',
  // things that are not ranges at all
  'latest', 'next', 'blerg', 'git+https://github.com/a/b.git', 'npm:foo@1.2.3', 'file:../x',
  'workspace:*', 'github:a/b', '1.2.3.4', '>>1.2.3', '=>1.2.3', '~=1.2.3', '1.2.3 >', '>', '<',
  '<=', '>=', '^', '~', '~>', 'v', 'a.b.c', '1.2.3-', '1..2', '1.2.03', '1.2.3 - 2.3.4 - 3.4.5',
  '>=1.2.3 <=', '^1.2.3 || latest', '1.2.3 && 2.0.0', '>=a', '1.2.3-beta..1', '1.2.3-+',
  // npm's text rewriting, found by black-box probing while writing the independent ircore/semver.py:
  // prefixes ("v", "=", spaces) before partial versions, spaces after operators, wildcards followed
  // by numbers, builds deleted anywhere, hyphen bounds keeping their spelling, stray "*", the
  // match-anything and match-nothing sets, loose splits of a digit run, bumps past 2**53
  '>=vv1.2', '>=vv1.2.3', '~vv1.2.3', '^ = 1.2.3', '~ v 1.2.3', '>= v 1.2.3', '>== 1.2', '<>= 1.2',
  '1.2.x-beta', '1.x-beta', '^1.x.3', '>1.x.3', '1.x.3 1.2.3', '1.2+b.3', '1.2.3+a+b', '+a',
  '1.2.3 +b - 2.0.0', '1.2.3 - +b 2.0.0', '1.2.3 - 2.0.0 +a +b', '1.2.3 - v 2.0.0', 'v1.2.3 - =2.0.0',
  '=1.2.3 - 2.0.0', '1.2.3 - =2.0.0-beta', 'v 1.2.3 - 2.0.0', '*1.2.3', '1.2.3*', '**', '1.2.3-*',
  '>=0.0.0 <2.0.0', '>=0.0.0+build', '>=v0.0.0', '^0.0.0', '~0.0.0-0', '>1.0.0 <0.0.0-0',
  '<0.0.0-0 || <0.0.0-0', '1.2.3 || 1.2.3', 'blerg * blerg', '* blerg', '|>= +3', '^00.1.2',
  '1.2.34.5', '>90071992547409919007199254740992 || 5',
]

// Long inputs where npm's length-bounded ("safe") regexes decide the outcome, mostly in loose
// mode where a comparator the bounded regex cannot read is silently dropped. validRange only.
const LONG_RANGES = [
  '~1.2.3-' + 'a'.repeat(250) + ' 1.0.0', '~1.2.3-' + 'a'.repeat(251) + ' 1.0.0',
  '^1.2.3-' + 'a'.repeat(251) + ' 1.0.0', '1.0.0 >=1.2.3-' + 'a'.repeat(251),
  '1.2.3-' + 'a'.repeat(251) + ' - 2.0.0 || 1.0.0', '>=1.0.0 1.2.3-' + '1'.repeat(257) + 'a',
  '1.0.0 ' + '9'.repeat(300), '1.0.0 >' + '9'.repeat(257), '1.2.3-' + 'a'.repeat(250),
  '>=1.0.0 <1.2.3+' + 'd'.repeat(400), '1.0.0 1.2.' + '1'.repeat(257),
  '>= ' + 'v'.repeat(300) + '1.2', '^' + 'v'.repeat(300) + '1.2.3', '1.2.3 - 1.2.' + '9'.repeat(110),
]

// Versions checked against every valid range. Invalid ones (npm: satisfies -> false) must
// make ircore raise InvalidVersion instead.
const VERSIONS = [
  '0.0.0', '0.0.1', '0.0.2', '0.1.0', '0.2.3', '0.2.9', '0.3.0', '1.0.0-alpha', '1.0.0-alpha.1',
  '1.0.0', '1.2.0', '1.2.3-beta.2', '1.2.3-beta.3', '1.2.3', '1.2.3+build.5', '1.2.4-alpha',
  '1.2.4', '1.3.0-0', '1.3.0', '1.4.4-lts.1', '1.4.5-lts.1', '1.9.9', '2.0.0-0', '2.0.0-rc.1',
  '2.0.0', '2.3.4', '2.3.5', '3.0.0', '10.0.0', 'v1.2.3', '=1.2.3', ' 1.2.3 ', '1.2', '01.2.3',
  '1.2.3beta', 'latest', '', '1.2.3.4', '9007199254740991.0.0', '9007199254740992.0.0',
]

// Extra version strings only checked for validity and parsing.
const VERSION_ONLY = [
  '1.2.3-01', '1.2.3-0a', '1.2.3-a.01', '1.2.3-', '1.2.3+', '1.2.3+01.a-b', '1.2.3-beta+exp.sha.5114f85',
  '=v1.2.3', 'vv1.2.3', ' v1.2.3', '\u00a01.2.3\u3000', '\ufeff1.2.3', '1.2.3\u0085', '\u0661.2.3', 'V1.2.3',
  '1.2.3-alpha.beta', '1.2.3-x-y-z.--', '1.0.0-0.3.7', '1.2.3-9007199254740991', '1.2.3-9007199254740992',
  'x.y.z', '1.2.x', '1', '-1.2.3', '1.-2.3', '1.2.3 4', '1.2.3\n', '\t1.2.3', 'a1.2.3',
  '1.2.' + '3'.repeat(260),
]

// Strictly valid versions whose pairwise order (semver.compare) must match ours.
const COMPARE = [
  '0.0.0', '0.0.0-0', '0.0.0-alpha', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta',
  '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.0+build',
  '1.0.0+other', '1.0.0-1', '1.0.0-2', '1.0.0-10', '1.0.0-a', '1.0.0-A', '1.0.0--', '1.0.0-0a',
  '1.0.0-1.2', '1.0.0-1.2.3', '1.2.3', 'v1.2.3', '1.10.0', '1.9.0', '2.0.0', '10.0.0',
  '1.4.4-lts.1', '1.4.5-lts.1', '1.4.4',
]

// Ranges against which invalid versions are also replayed.
const INVALID_VERSION_PROBES = new Set(['^1.2.3', '*', '', '1.x', '1.2.3 - 2.3.4', '>=1.2.3 <2.0.0',
  '1.2.3', '1.2.3 || 2.x', 'latest', '01.2.3', '=1.2.3', '>= 1.0.0, < 1.2.3'])

const b = (x) => (x ? 1 : 0)
const opts = (loose, inc) => ({ loose: !!loose, includePrerelease: !!inc })

const ranges = []
const valid = new Map()
for (const r of [...RANGES, ...LONG_RANGES]) {
  for (const loose of [false, true]) {
    for (const inc of [false, true]) {
      const out = semver.validRange(r, opts(loose, inc))
      ranges.push([r, b(loose), b(inc), out])
      valid.set(`${r}\u0000${b(loose)}\u0000${b(inc)}`, out !== null)
    }
  }
}

const versions = []
for (const v of [...VERSIONS, ...VERSION_ONLY]) {
  for (const loose of [false, true]) {
    const p = semver.parse(v, { loose })
    versions.push([v, b(loose), p ? p.version : null, p ? p.build : null])
  }
}

// satisfies: every range x every version, strict, both prerelease modes; loose mode only
// where loose changes validity, to keep the file small.
const satisfies = []
for (const r of RANGES) {
  for (const loose of [false, true]) {
    const strictValid = valid.get(`${r}\u00000\u00000`)
    const looseValid = valid.get(`${r}\u00001\u00000`)
    if (loose && strictValid === looseValid && semver.validRange(r, { loose: true }) === semver.validRange(r)) {
      continue
    }
    for (const inc of [false, true]) {
      const rangeValid = valid.get(`${r}\u0000${b(loose)}\u0000${b(inc)}`)
      // An invalid range needs only a couple of rows: the verdict is always false in npm.
      const pool = rangeValid ? VERSIONS : ['1.2.3', '2.0.0-rc.1']
      for (const v of pool) {
        const versionValid = semver.valid(v, { loose }) !== null
        // An invalid version is always false in npm (ircore raises): a sample of ranges suffices.
        if (!versionValid && !INVALID_VERSION_PROBES.has(r)) {
          continue
        }
        const verdict = semver.satisfies(v, r, opts(loose, inc))
        satisfies.push([r, v, b(inc), b(loose), b(rangeValid), b(versionValid), b(verdict)])
      }
    }
  }
}

const compare = []
for (const a of COMPARE) {
  for (const c of COMPARE) {
    compare.push([a, c, semver.compare(a, c)])
  }
}

const rows = (name, list, last) =>
  `  "${name}": [\n${list.map((x) => '    ' + JSON.stringify(x)).join(',\n')}\n  ]${last ? '' : ','}\n`

const out =
  '{\n' +
  `  "generator": "tests/oracle/generate_semver_oracle.mjs",\n` +
  `  "semver_version": ${JSON.stringify(semverVersion)},\n` +
  `  "node_version": ${JSON.stringify(process.version)},\n` +
  `  "columns": ${JSON.stringify({
    ranges: ['range', 'loose', 'include_prerelease', 'valid_range (null = invalid)'],
    versions: ['version', 'loose', 'normalised (null = invalid)', 'build identifiers'],
    satisfies: ['range', 'version', 'include_prerelease', 'loose', 'range_valid', 'version_valid', 'verdict'],
    compare: ['a', 'b', 'semver.compare(a, b)'],
  })},\n` +
  rows('ranges', ranges) +
  rows('versions', versions) +
  rows('satisfies', satisfies) +
  rows('compare', compare, true) +
  '}\n'

const target = join(dirname(fileURLToPath(import.meta.url)), 'semver_oracle.json')
writeFileSync(target, out)
console.log(`semver ${semverVersion}: ${ranges.length} validRange rows, ${versions.length} version rows, ` +
  `${satisfies.length} satisfies rows, ${compare.length} compare rows -> ${target}`)
