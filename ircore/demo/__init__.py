"""The embedded demo organization: a seeded, offline org under the 2025-09-08 chalk/debug compromise.

``build_demo_org(dest)`` writes git repositories (npm, yarn 1, yarn Berry, pnpm and bun lockfiles),
developer machines' host scans and a Dev Machine Guard export, advisories, an incident spec, a
sources file and the ground truth of what was planted; ``ircore demo`` runs the whole pipeline on
it.
"""

from ircore.demo._generate import DemoOrg, build_demo_org

__all__ = ["DemoOrg", "build_demo_org"]
