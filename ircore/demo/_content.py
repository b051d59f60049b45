"""Text of the demo org's repositories: people, names, READMEs, sources and CI workflows.

Only the lockfiles carry evidence; these files exist so the repositories look like the ones an
analyst will clone (a README to read, a workflow that runs ``npm ci``, code that imports chalk).
"""

from __future__ import annotations

from ircore.demo._git import Person

ORG = "larkspur"
DOMAIN = "larkspur.example"

#: Developers with the UTC offsets their commits carry, so dates must be normalised to compare.
PEOPLE: tuple[Person, ...] = (
    Person("Alex Moreno", f"alex.moreno@{DOMAIN}", "-0700"),
    Person("Priya Natarajan", f"priya.natarajan@{DOMAIN}", "+0530"),
    Person("Jonas Weber", f"jonas.weber@{DOMAIN}", "+0200"),
    Person("Mei Lin", f"mei.lin@{DOMAIN}", "+0800"),
    Person("Sam Okafor", f"sam.okafor@{DOMAIN}", "+0100"),
    Person("Rita Costa", f"rita.costa@{DOMAIN}", "+0100"),
    Person("Dana Kowalski", f"dana.kowalski@{DOMAIN}", "-0400"),
)
BOT = Person("larkspur-deps[bot]", f"deps-bot@{DOMAIN}", "+0000")

#: Repository names per template; the generator draws from these with its seeded RNG.
NAME_POOLS: dict[str, tuple[str, ...]] = {
    "cli-tool": ("ledger-cli", "deploy-tool", "release-cli", "cli-scaffold", "ops-cli"),
    "express-api": (
        "orders-api",
        "billing-api",
        "auth-gateway",
        "notify-worker",
        "metrics-api",
        "edge-proxy",
        "inventory-api",
    ),
    "web-app": (
        "storefront-web",
        "admin-console",
        "marketing-site",
        "docs-portal",
        "support-dashboard",
        "checkout-web",
    ),
    "lib-eslint-jest": ("string-kit", "date-utils", "sdk-js", "money-format"),
    "monorepo": ("platform-monorepo", "tooling-monorepo", "design-system", "data-pipelines"),
    "legacy-v1": ("legacy-reports", "legacy-billing", "legacy-exporter"),
    "alias-project": ("term-layout", "console-grid"),
    "color-service": ("ui-tokens", "theme-service", "brand-palette"),
    "tiny": ("uuid-service", "config-schema", "feature-flags"),
    "fullstack": ("fullstack-portal", "partner-portal"),
    "cli-yarn-classic": ("support-cli", "infra-cli", "db-migrate"),
    "api-yarn-berry": ("payments-api", "catalog-api", "shipping-api"),
    "pnpm-monorepo": ("web-platform", "frontend-monorepo", "ui-kit"),
    "bun-app": ("status-board", "ops-dashboard", "queue-monitor"),
}

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "cli-tool": (
        "Command-line tool for day-to-day operations.",
        "Internal CLI used by the release and on-call rotations.",
    ),
    "express-api": (
        "HTTP API service behind the public gateway.",
        "Express service with a Redis-backed queue.",
    ),
    "web-app": ("React single-page application built with Vite.", "Customer-facing web front end."),
    "lib-eslint-jest": ("Small utility library published to the internal registry.",),
    "monorepo": ("npm-workspaces monorepo: shared core, logger and CLI packages.",),
    "legacy-v1": ("Legacy Node service still on an npm 6 era lockfile.",),
    "alias-project": ("Terminal layout helpers shipped as ESM and CommonJS.",),
    "color-service": ("Theme and palette service for the design system.",),
    "tiny": ("Tiny helper package with no terminal dependencies.",),
    "fullstack": ("Portal with an Express server and a React client in one repository.",),
    "cli-yarn-classic": ("Operations CLI, still on yarn 1.",),
    "api-yarn-berry": ("Express service managed with yarn 4 (node-modules linker).",),
    "pnpm-monorepo": ("pnpm workspace: web front end, UI kit, core and CLI packages.",),
    "bun-app": ("Terminal dashboard written in TypeScript and run with bun.",),
}

#: How each package manager installs from a committed lockfile, and what CI sets up for it.
INSTALL: dict[str, tuple[str, str]] = {
    "npm": ("npm ci", "npm install"),
    "yarn-classic": ("yarn install --frozen-lockfile", "yarn install"),
    "yarn-berry": ("yarn install --immutable", "yarn install"),
    "pnpm": ("pnpm install --frozen-lockfile", "pnpm install"),
    "bun": ("bun install --frozen-lockfile", "bun install"),
}
_RUN = {
    "npm": "npm test",
    "yarn-classic": "yarn test",
    "yarn-berry": "yarn test",
    "pnpm": "pnpm -r test",
    "bun": "bun test",
}
_IGNORE = {
    "yarn-berry": ".yarn/*\n!.yarn/patches\n!.yarn/releases\n.pnp.*\n",
}


def gitignore(manager: str = "npm") -> str:
    """Return the ``.gitignore`` of a repository managed with ``manager``."""
    return GITIGNORE + _IGNORE.get(manager, "")


TEAMS = ("payments", "platform", "growth", "developer-experience", "data", "web")

GITIGNORE = "node_modules/\ndist/\ncoverage/\n.env\n*.log\n"

_SOURCES: dict[str, dict[str, str]] = {
    "cli-tool": {
        "src/index.js": """#!/usr/bin/env node
import { Command } from 'commander';
import chalk from 'chalk';
import createDebug from 'debug';
import ora from 'ora';

const debug = createDebug('{repo}');
const program = new Command('{repo}');

program
  .command('status')
  .description('Show the status of the current environment')
  .action(async () => {
    const spinner = ora('Checking').start();
    debug('checking status');
    spinner.succeed(chalk.green('All systems nominal'));
  });

program.parse();
""",
    },
    "express-api": {
        "src/index.js": """'use strict';
require('dotenv').config();
const express = require('express');
const helmet = require('helmet');
const Redis = require('ioredis');

const app = express();
const redis = new Redis(process.env.REDIS_URL);

app.use(helmet());
app.use(express.json());

app.get('/healthz', async (req, res) => {
  res.json({ ok: true, redis: redis.status });
});

app.listen(process.env.PORT || 3000);
""",
    },
    "web-app": {
        "index.html": """<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <title>{repo}</title>
  </head>
  <body>
    <div id="root"></div>
    <script type="module" src="/src/main.jsx"></script>
  </body>
</html>
""",
        "src/main.jsx": """import React from 'react';
import ReactDOM from 'react-dom/client';

function App() {
  return <h1>{repo}</h1>;
}

ReactDOM.createRoot(document.getElementById('root')).render(<App />);
""",
    },
    "lib-eslint-jest": {
        "src/index.js": """'use strict';

function slugify(text) {
  return String(text).trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

module.exports = { slugify };
""",
        "test/index.test.js": """'use strict';
const { slugify } = require('../src');

test('slugify', () => {
  expect(slugify(' Hello, World ')).toBe('hello-world');
});
""",
    },
    "monorepo": {
        "packages/core/index.js": """const debug = require('debug')('core');

exports.run = (task) => {
  debug('running %s', task);
  return task;
};
""",
        "packages/cli/index.js": """#!/usr/bin/env node
import chalk from 'chalk';
import yargs from 'yargs';

const argv = yargs(process.argv.slice(2)).argv;
console.log(chalk.bold(`task: ${argv.task ?? 'none'}`));
""",
        "packages/logger/index.js": """import supportsColor from 'supports-color';
import wrapAnsi from 'wrap-ansi';

export function log(message) {
  const text = supportsColor.stdout ? message : message.replace(/\\u001b\\[[0-9;]*m/g, '');
  console.log(wrapAnsi(text, 80));
}
""",
    },
    "legacy-v1": {
        "index.js": """var express = require('express');
var winston = require('winston');
var chalk = require('chalk');
var debug = require('debug')('reports');

var app = express();
var logger = winston.createLogger({ transports: [new winston.transports.Console()] });

app.get('/reports', function (req, res) {
  debug('GET /reports');
  res.json([]);
});

app.listen(8080, function () {
  logger.info(chalk.green('listening on 8080'));
});
""",
    },
    "alias-project": {
        "src/index.js": """'use strict';
const stringWidth = require('string-width-cjs');
const stripAnsi = require('strip-ansi-cjs');

exports.pad = (text, width) => text + ' '.repeat(Math.max(0, width - stringWidth(stripAnsi(text))));
""",
    },
    "color-service": {
        "src/index.js": """import Color from 'color';
import chalkTemplate from 'chalk-template';
import createDebug from 'debug';

const debug = createDebug('palette');

export function shade(hex, amount) {
  debug('shade %s by %d', hex, amount);
  return Color(hex).darken(amount).hex();
}

export const banner = () => chalkTemplate`{bold palette} service`;
""",
    },
    "tiny": {
        "index.js": """'use strict';
const { v4: uuid } = require('uuid');
const { z } = require('zod');

const Id = z.string().uuid();

exports.newId = () => Id.parse(uuid());
""",
    },
}


_SOURCES["cli-yarn-classic"] = _SOURCES["cli-tool"]
_SOURCES["api-yarn-berry"] = {
    "src/index.js": """'use strict';
const express = require('express');
const Redis = require('ioredis');

const app = express();
const redis = new Redis(process.env.REDIS_URL);

app.get('/healthz', async (req, res) => {
  res.json({ ok: true, redis: redis.status });
});

app.listen(process.env.PORT || 3000, async () => {
  const { default: chalk } = await import('chalk');
  console.log(chalk.green('{repo} listening'));
});
""",
}
_SOURCES["pnpm-monorepo"] = {
    "packages/core/index.js": _SOURCES["monorepo"]["packages/core/index.js"],
    "packages/ui/index.js": """import chalkTemplate from 'chalk-template';
import sliceAnsi from 'slice-ansi';
import wrapAnsi from 'wrap-ansi';

export const title = (text) => chalkTemplate`{bold ${text}}`;
export const clip = (text, width) => sliceAnsi(wrapAnsi(text, width), 0, width * 3);
""",
    "packages/web/index.js": """import chalk from 'chalk';
import Color from 'color';

export const accent = (hex) => chalk.hex(Color(hex).lighten(0.2).hex());
""",
    "packages/cli/index.js": """#!/usr/bin/env node
import chalk from 'chalk';

console.log(chalk.bold('{repo}'));
""",
}
_SOURCES["bun-app"] = {
    "src/index.ts": """import chalk from 'chalk';
import createDebug from 'debug';
import ora from 'ora';
import stripAnsi from 'strip-ansi';

const debug = createDebug('{repo}');
const spinner = ora('Loading queues').start();
debug('polling');
spinner.succeed(chalk.green('queues healthy'));
console.log(stripAnsi(chalk.bold('plain output for logs')));
""",
}


def sources(template: str, repo: str) -> dict[str, str]:
    """Return the source files of a project built from ``template``.

    Parameters
    ----------
    template : str
        Seed project name.
    repo : str
        Repository name, substituted into the sources.

    Returns
    -------
    dict of str to str
        Relative path to file text.
    """
    return {path: text.replace("{repo}", repo) for path, text in _SOURCES[template].items()}


def readme(
    repo: str,
    description: str,
    team: str,
    *,
    subprojects: tuple[str, ...] = (),
    manager: str = "npm",
) -> str:
    """Return a repository README."""
    layout = "".join(f"- `{p}/`\n" for p in subprojects)
    if layout:
        layout = "\n## Layout\n\n" + layout
    return (
        f"# {repo}\n\n{description}\n\nOwned by the {team} team.\n{layout}\n"
        f"## Development\n\n```sh\n{INSTALL[manager][0]}\n{_RUN[manager]}\n```\n"
    )


_SETUP = {
    "pnpm": "      - uses: pnpm/action-setup@v4\n",
    "bun": "      - uses: oven-sh/setup-bun@v2\n",
    "yarn-berry": "      - run: corepack enable\n",
}


def workflow(
    *, subprojects: tuple[str, ...] = (), lockfile: bool = True, manager: str = "npm"
) -> str:
    """Return ``.github/workflows/ci.yml`` for the repository's projects.

    Parameters
    ----------
    subprojects : tuple of str
        Project folders; empty for a single project at the root.
    lockfile : bool
        False for a repository that does not commit its lockfile (``npm install``).
    manager : str
        The package manager (``npm``, ``yarn-classic``, ``yarn-berry``, ``pnpm``, ``bun``).
    """
    if manager != "npm":
        return _other_workflow(manager)
    install = "npm ci" if lockfile else "npm install"
    jobs = []
    for sub in subprojects or ("",):
        job = sub or "test"
        cache = (
            "          cache: npm\n"
            + (f"          cache-dependency-path: {sub}/package-lock.json\n" if sub else "")
            if lockfile
            else ""
        )
        defaults = f"    defaults:\n      run:\n        working-directory: {sub}\n" if sub else ""
        jobs.append(
            f"  {job}:\n"
            "    runs-on: ubuntu-latest\n"
            f"{defaults}"
            "    steps:\n"
            "      - uses: actions/checkout@v4\n"
            "      - uses: actions/setup-node@v4\n"
            "        with:\n"
            "          node-version: 20\n"
            f"{cache}"
            f"      - run: {install}\n"
            "      - run: npm test --if-present\n"
        )
    return (
        "name: CI\n\non:\n  push:\n    branches: [main]\n  pull_request:\n\n"
        "permissions:\n  contents: read\n\njobs:\n" + "".join(jobs)
    )


def _other_workflow(manager: str) -> str:
    setup_node = (
        "      - uses: actions/setup-node@v4\n"
        "        with:\n"
        "          node-version: 20\n"
        + (f"          cache: {manager.split('-')[0]}\n" if manager != "bun" else "")
    )
    steps = (
        "      - uses: actions/checkout@v4\n"
        + (_SETUP.get(manager, "") if manager == "pnpm" else "")
        + setup_node
        + (_SETUP.get(manager, "") if manager != "pnpm" else "")
        + f"      - run: {INSTALL[manager][0]}\n"
        + f"      - run: {_RUN[manager]}\n"
    )
    return (
        "name: CI\n\non:\n  push:\n    branches: [main]\n  pull_request:\n\n"
        "permissions:\n  contents: read\n\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n" + steps
    )
