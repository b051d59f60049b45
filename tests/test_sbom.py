"""SBOM documents: CycloneDX and SPDX JSON as cyclonedx-npm, `npm sbom`, syft and GitHub's
dependency-graph export write them, and their place in the inventory loader.

The documents are written here in the shapes those tools produce (field names, nesting, the way
each spells a scoped name, its properties and relationships). The syft ones follow what syft
1.18.1 printed for a small project (`syft dir:<project> --select-catalogers
+javascript-package-cataloger -o cyclonedx-json -o spdx-json`), its cpe properties left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircore import EvidenceLog, InputError, validate
from ircore.inventory import load_inventory
from ircore.inventory._sbom import _parse_purl, parse_sbom
from tests._lockfiles import commit_files, git, init_repo, lock_v3
from tests._shared import raises_kind
from tests._shared import shared_path as _shared

REG = "https://registry.npmjs.org"


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2).encode()


def _path(name: str) -> dict[str, str]:
    return {"name": "cdx:npm:package:path", "value": name}


DEV = {"name": "cdx:npm:package:development", "value": "true"}


def _cdx_npm(name: str, version: str, path: str, *extra: dict[str, str], **fields: Any) -> dict:
    """A component as cyclonedx-npm writes it (scope as group, bom-ref from npm ls _id)."""
    scope, _, short = name.rpartition("/")
    component: dict[str, Any] = {
        "type": "library",
        "name": short,
        "version": version,
        "bom-ref": f"{name}@{version}",
        "purl": f"pkg:npm/{name.replace('@', '%40', 1) if scope else name}@{version}",
        "externalReferences": [
            {
                "url": f"{REG}/{name}/-/{short}-{version}.tgz",
                "type": "distribution",
                "comment": 'as detected from npm-ls property "resolved"',
            }
        ],
        "properties": [_path(path), *extra],
        **fields,
    }
    if scope:
        component["group"] = scope
    return component


CYCLONEDX_NPM = {
    "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "serialNumber": "urn:uuid:6b1b7d1e-9a7b-4a3f-8a47-3f1a0e4a2c11",
    "metadata": {
        "timestamp": "2025-09-09T10:00:00.000Z",
        "tools": {
            "components": [
                {"type": "application", "name": "npm", "version": "10.8.2"},
                {
                    "type": "application",
                    "name": "cyclonedx-npm",
                    "group": "@cyclonedx",
                    "version": "1.19.3",
                },
            ]
        },
        "component": {
            "type": "application",
            "name": "order-service",
            "version": "1.4.0",
            "bom-ref": "order-service@1.4.0",
            "purl": "pkg:npm/order-service@1.4.0",
        },
    },
    "components": [
        _cdx_npm("@aws-sdk/client-lambda", "3.1037.0", "node_modules/@aws-sdk/client-lambda"),
        {
            **_cdx_npm("debug", "4.3.4", "node_modules/debug"),
            "components": [
                {
                    **_cdx_npm("ms", "2.1.2", "node_modules/debug/node_modules/ms"),
                    "bom-ref": "debug@4.3.4|ms@2.1.2",
                }
            ],
        },
        _cdx_npm(
            "ms",
            "2.1.3",
            "node_modules/ms",
            {"name": "cdx:npm:package:extraneous", "value": "true"},
        ),
        {
            **_cdx_npm("chalk", "5.3.0", "node_modules/chalk", DEV),
            "components": [
                {
                    **_cdx_npm(
                        "ansi-styles",
                        "6.2.1",
                        "node_modules/chalk/node_modules/ansi-styles",
                        DEV,
                        {"name": "cdx:npm:package:bundled", "value": "true"},
                    ),
                    "bom-ref": "chalk@5.3.0|ansi-styles@6.2.1",
                }
            ],
        },
        _cdx_npm("fsevents", "2.3.3", "node_modules/fsevents", scope="optional"),
        {
            "type": "library",
            "name": "gitdep",
            "version": "1.0.0",
            "bom-ref": "gitdep@1.0.0",
            "purl": "pkg:npm/gitdep@1.0.0?vcs_url=git%2Bssh://git%40github.com/u/gitdep.git%23abc",
            "properties": [_path("node_modules/gitdep")],
        },
    ],
    "dependencies": [
        {
            "ref": "order-service@1.4.0",
            "dependsOn": [
                "@aws-sdk/client-lambda@3.1037.0",
                "chalk@5.3.0",
                "debug@4.3.4",
                "fsevents@2.3.3",
                "gitdep@1.0.0",
            ],
        },
        {"ref": "debug@4.3.4", "dependsOn": ["debug@4.3.4|ms@2.1.2"]},
        {"ref": "chalk@5.3.0", "dependsOn": ["chalk@5.3.0|ansi-styles@6.2.1"]},
        {"ref": "debug@4.3.4|ms@2.1.2", "dependsOn": []},
    ],
}


def _by_path(rows: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    return {row["install_path"]: row for row in rows}


def test_cyclonedx_npm_nested_components_flags_and_graph() -> None:
    result = parse_sbom(_bytes(CYCLONEDX_NPM))
    assert result.format == "cyclonedx-1.6"
    rows = _by_path(result.rows)
    assert len(result.rows) == 8  # the project itself is no row
    lambda_ = rows["node_modules/@aws-sdk/client-lambda"]
    assert (lambda_["name"], lambda_["version"]) == ("@aws-sdk/client-lambda", "3.1037.0")
    assert (lambda_["dev"], lambda_["direct"], lambda_["optional"]) == (False, True, False)
    assert lambda_["origin_kind"] == "registry"
    assert lambda_["resolved"] == f"{REG}/@aws-sdk/client-lambda/-/client-lambda-3.1037.0.tgz"
    nested = rows["node_modules/debug/node_modules/ms"]
    assert (nested["version"], nested["direct"], nested["dependency_path"]) == (
        "2.1.2",
        False,
        "debug > ms",
    )
    extraneous = rows["node_modules/ms"]
    assert (extraneous["direct"], extraneous["dev"], extraneous["dependency_path"]) == (
        False,
        False,  # cyclonedx-npm marks every dev package, so an unmarked one is not dev
        None,
    )
    assert (rows["node_modules/chalk"]["dev"], rows["node_modules/chalk"]["direct"]) == (True, True)
    bundled = rows["node_modules/chalk/node_modules/ansi-styles"]
    assert (bundled["bundled"], bundled["dev"]) == (True, True)
    assert rows["node_modules/chalk"]["bundled"] is False
    assert rows["node_modules/fsevents"]["optional"] is True
    assert rows["node_modules/gitdep"]["origin_kind"] == "git"
    assert rows["node_modules/gitdep"]["resolved"] == "git+ssh://git@github.com/u/gitdep.git#abc"


def test_npm_sbom_cyclonedx_names_scopes_in_name() -> None:
    doc = {
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:0b0e5c68-4a7c-4d0b-a3d5-7d3f3d0b1f2e",
        "version": 1,
        "metadata": {
            "timestamp": "2025-09-09T10:00:00.000Z",
            "lifecycles": [{"phase": "build"}],
            "tools": [{"vendor": "npm", "name": "cli", "version": "10.8.2"}],
            "component": {
                "bom-ref": "app@1.0.0",
                "type": "library",
                "name": "app",
                "version": "1.0.0",
                "scope": "required",
                "purl": "pkg:npm/app@1.0.0",
                "properties": [],
                "externalReferences": [],
            },
        },
        "components": [
            {
                "bom-ref": "@babel/core@7.24.0",
                "type": "library",
                "name": "@babel/core",
                "version": "7.24.0",
                "scope": "required",
                "purl": "pkg:npm/%40babel/core@7.24.0",
                "properties": [DEV],
                "externalReferences": [],
            },
            {
                "bom-ref": "nan@2.19.0",
                "type": "library",
                "name": "nan",
                "version": "2.19.0",
                "scope": "optional",
                "purl": "pkg:npm/nan@2.19.0",
                "properties": [],
                "externalReferences": [],
            },
        ],
        "dependencies": [
            {"ref": "app@1.0.0", "dependsOn": ["@babel/core@7.24.0", "nan@2.19.0"]},
            {"ref": "@babel/core@7.24.0", "dependsOn": []},
            {"ref": "nan@2.19.0", "dependsOn": []},
        ],
    }
    result = parse_sbom(_bytes(doc))
    assert result.format == "cyclonedx-1.5"
    flags = {r["name"]: (r["dev"], r["optional"], r["direct"]) for r in result.rows}
    # root lists every package and nothing else has edges: a flat list says nothing of directness
    assert flags == {"@babel/core": (True, False, None), "nan": (False, True, None)}
    assert any("flat list" in w for w in result.warnings)


def _syft_props(cataloger: str, path: str) -> list[dict[str, str]]:
    kind = (
        "javascript-npm-package"
        if "package-cataloger" in cataloger
        else "javascript-npm-package-lock-entry"
    )
    return [
        {"name": "syft:package:foundBy", "value": cataloger},
        {"name": "syft:package:language", "value": "javascript"},
        {"name": "syft:package:type", "value": "npm"},
        {"name": "syft:package:metadataType", "value": kind},
        {"name": "syft:location:0:path", "value": path},
    ]


def _syft_component(name: str, version: str, cataloger: str, path: str, ref: str) -> dict:
    return {
        "bom-ref": f"pkg:npm/{name.replace('@', '%40', 1)}@{version}?package-id={ref}",
        "type": "library",
        "name": name,
        "version": version,
        "purl": f"pkg:npm/{name.replace('@', '%40', 1)}@{version}",
        "properties": _syft_props(cataloger, path),
    }


def test_syft_cyclonedx_drops_the_project_and_keeps_install_paths() -> None:
    installed, lock = "javascript-package-cataloger", "javascript-lock-cataloger"
    doc = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:33a640d9-3a7b-4176-8491-989cd1652d49",
        "version": 1,
        "metadata": {
            "timestamp": "2025-09-09T10:00:00Z",
            "tools": {
                "components": [
                    {
                        "type": "application",
                        "author": "anchore",
                        "name": "syft",
                        "version": "1.18.1",
                    }
                ]
            },
            "component": {"bom-ref": "6d222894c168fc1a", "type": "file", "name": "/src/order"},
        },
        "components": [
            _syft_component(
                "@aws-sdk/client-lambda",
                "3.1037.0",
                installed,
                "/node_modules/@aws-sdk/client-lambda/package.json",
                "a948facfcfd8511c",
            ),
            _syft_component(
                "@aws-sdk/client-lambda", "3.1037.0", lock, "/package-lock.json", "8270da8e752ab61b"
            ),
            _syft_component(
                "ms", "2.1.2", installed, "/node_modules/debug/node_modules/ms/package.json", "e"
            ),
            _syft_component("order", "1.4.0", lock, "/package-lock.json", "51129cb0d342fc4d"),
            _syft_component("order", "1.4.0", installed, "/package.json", "5eee2af061089896"),
            {"bom-ref": "os", "type": "operating-system", "name": "debian", "version": "12"},
        ],
    }
    result = parse_sbom(_bytes(doc))
    got = sorted((r["name"], r["version"], r["install_path"] or "") for r in result.rows)
    assert got == [
        ("@aws-sdk/client-lambda", "3.1037.0", ""),
        ("@aws-sdk/client-lambda", "3.1037.0", "node_modules/@aws-sdk/client-lambda"),
        ("ms", "2.1.2", "node_modules/debug/node_modules/ms"),
    ]
    assert {(r["dev"], r["direct"]) for r in result.rows} == {(None, None)}
    notes = " ".join(result.warnings)
    assert "order@1.4.0" in notes
    assert "1 components have no npm package URL" in notes and "debian" in notes


def test_syft_spdx_reads_source_info() -> None:
    def package(name: str, version: str, spdx_id: str, source: str, location: str) -> dict:
        return {
            "name": name,
            "SPDXID": spdx_id,
            "versionInfo": version,
            "supplier": "NOASSERTION",
            "downloadLocation": location,
            "filesAnalyzed": False,
            "sourceInfo": f"acquired package info from installed node module manifest file: {source}",
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": f"pkg:npm/{name.replace('@', '%40', 1)}@{version}",
                }
            ],
        }

    root = "SPDXRef-DocumentRoot-Directory--src-order"
    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "/src/order",
        "documentNamespace": "https://anchore.com/syft/dir/src/order-ee2dc943",
        "creationInfo": {
            "licenseListVersion": "3.25",
            "creators": ["Organization: Anchore, Inc", "Tool: syft-1.18.1"],
            "created": "2025-09-09T10:00:00Z",
        },
        "packages": [
            package(
                "debug",
                "4.3.4",
                "SPDXRef-Package-npm-debug-1",
                "/node_modules/debug/package.json",
                "NONE",
            ),
            package(
                "debug",
                "4.3.4",
                "SPDXRef-Package-npm-debug-2",
                "/package-lock.json",
                f"{REG}/debug/-/debug-4.3.4.tgz",
            ),
            package("order", "1.4.0", "SPDXRef-Package-npm-order-1", "/package.json", "NONE"),
            {
                "name": "/src/order",
                "SPDXID": root,
                "supplier": "NOASSERTION",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "primaryPackagePurpose": "FILE",
            },
        ],
        "relationships": [
            {
                "spdxElementId": root,
                "relatedSpdxElement": "SPDXRef-Package-npm-debug-1",
                "relationshipType": "CONTAINS",
            },
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relatedSpdxElement": root,
                "relationshipType": "DESCRIBES",
            },
        ],
    }
    result = parse_sbom(_bytes(doc))
    assert result.format == "spdx-2.3"
    got = sorted(
        (r["install_path"] or "", r["resolved"] or "", r["origin_kind"] or "") for r in result.rows
    )
    assert got == [
        ("", f"{REG}/debug/-/debug-4.3.4.tgz", "registry"),
        ("node_modules/debug", "", ""),
    ]


GITHUB_EXPORT = {
    "sbom": {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "com.github.acme/web",
        "documentNamespace": "https://spdx.org/spdxdocs/protobom/3817786d-081e-4dfb-81b8-6175d52fa594",
        "creationInfo": {
            "creators": [
                "Tool: protobom-v0.0.0-20250919084336",
                "Tool: GitHub.com-Dependency-Graph",
            ],
            "created": "2025-09-24T08:05:47Z",
        },
        "packages": [
            {
                "name": "com.github.acme/web",
                "SPDXID": "SPDXRef-github-acme-web-main-229496",
                "versionInfo": "main",
                "downloadLocation": "git+https://github.com/acme/web",
                "filesAnalyzed": False,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:github/acme/web@main",
                    }
                ],
            },
            {
                "name": "@ctrl/tinycolor",
                "SPDXID": "SPDXRef-npm-ctrl-tinycolor-4.1.1-9a6f21",
                "versionInfo": "4.1.1",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:npm/%40ctrl/tinycolor@4.1.1",
                    }
                ],
            },
            {
                # what GitHub lists for a package.json without a lockfile: a range
                "name": "lodash",
                "SPDXID": "SPDXRef-npm-lodash-4.17.21-f669b9",
                "versionInfo": "^4.17.21",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:npm/lodash@%5E4.17.21",
                    }
                ],
            },
            {
                # older exports: the ecosystem in the name, no package URL
                "name": "npm:chalk",
                "SPDXID": "SPDXRef-npm-chalk-5.6.1",
                "versionInfo": "5.6.1",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
            },
            {
                "name": "requests",
                "SPDXID": "SPDXRef-pip-requests-2.31.0",
                "versionInfo": "2.31.0",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:pypi/requests@2.31.0",
                    }
                ],
            },
        ],
        "relationships": [
            {
                "relationshipType": "DESCRIBES",
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relatedSpdxElement": "SPDXRef-github-acme-web-main-229496",
            },
            *(
                {
                    "relationshipType": "DEPENDS_ON",
                    "spdxElementId": "SPDXRef-github-acme-web-main-229496",
                    "relatedSpdxElement": target,
                }
                for target in (
                    "SPDXRef-npm-ctrl-tinycolor-4.1.1-9a6f21",
                    "SPDXRef-npm-lodash-4.17.21-f669b9",
                    "SPDXRef-npm-chalk-5.6.1",
                    "SPDXRef-pip-requests-2.31.0",
                )
            ),
        ],
    }
}


def test_github_dependency_graph_export() -> None:
    result = parse_sbom(_bytes(GITHUB_EXPORT))
    assert result.format == "spdx-2.3"
    assert sorted((r["name"], r["version"]) for r in result.rows) == [
        ("@ctrl/tinycolor", "4.1.1"),
        ("chalk", "5.6.1"),
    ]
    assert {(r["dev"], r["direct"]) for r in result.rows} == {(None, None)}
    notes = " ".join(result.warnings)
    assert "default branch only" in notes
    assert "lodash@^4.17.21" in notes  # a range is not an installed version
    assert "pypi: 1" in notes
    assert "flat list" in notes


def test_npm_sbom_spdx_typed_edges_give_dev_optional_direct() -> None:
    def package(name: str, version: str, location: str) -> dict:
        return {
            "name": name,
            "SPDXID": f"SPDXRef-Package-{name}-{version}",
            "versionInfo": version,
            "packageFileName": location,
            "downloadLocation": f"{REG}/{name}/-/{name}-{version}.tgz",
            "filesAnalyzed": False,
            "homepage": "NOASSERTION",
            "licenseDeclared": "MIT",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": f"pkg:npm/{name}@{version}",
                }
            ],
        }

    def edge(child: str, parent: str, kind: str) -> dict:
        return {
            "spdxElementId": f"SPDXRef-Package-{child}",
            "relatedSpdxElement": f"SPDXRef-Package-{parent}",
            "relationshipType": kind,
        }

    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "app@1.0.0",
        "documentNamespace": "http://spdx.org/spdxdocs/app-1.0.0-5b1f0c2e",
        "creationInfo": {
            "created": "2025-09-09T10:00:00.000Z",
            "creators": ["Tool: npm/cli-10.8.2"],
        },
        "documentDescribes": ["SPDXRef-Package-app-1.0.0"],
        "packages": [
            package("app", "1.0.0", ""),
            package("express", "4.21.2", "node_modules/express"),
            package("jest", "29.7.0", "node_modules/jest"),
            package("fsevents", "2.3.3", "node_modules/fsevents"),
            package("debug", "4.3.4", "node_modules/debug"),
            package("pretty", "1.0.0", "node_modules/pretty"),
        ],
        "relationships": [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relatedSpdxElement": "SPDXRef-Package-app-1.0.0",
                "relationshipType": "DESCRIBES",
            },
            edge("express-4.21.2", "app-1.0.0", "DEPENDENCY_OF"),
            edge("jest-29.7.0", "app-1.0.0", "DEV_DEPENDENCY_OF"),
            edge("fsevents-2.3.3", "app-1.0.0", "OPTIONAL_DEPENDENCY_OF"),
            edge("debug-4.3.4", "express-4.21.2", "DEPENDENCY_OF"),
            edge("debug-4.3.4", "jest-29.7.0", "DEPENDENCY_OF"),
            edge("pretty-1.0.0", "jest-29.7.0", "DEPENDENCY_OF"),
        ],
    }
    rows = {r["name"]: r for r in parse_sbom(_bytes(doc)).rows}
    assert set(rows) == {"express", "jest", "fsevents", "debug", "pretty"}
    flags = {name: (r["dev"], r["optional"], r["direct"]) for name, r in rows.items()}
    assert flags == {
        "express": (False, False, True),
        "jest": (True, False, True),
        "fsevents": (False, True, True),
        "debug": (False, False, False),  # production reaches it through express
        "pretty": (True, False, False),
    }
    assert rows["debug"]["dependency_path"] == "express > debug"
    assert rows["pretty"]["install_path"] == "node_modules/pretty"


def test_case_26_scope_group_and_purl() -> None:
    data = _shared("cases/lockfiles/26-cyclonedx-npm-scope-group/bom.cdx.json").read_bytes()
    result = parse_sbom(data)
    assert sorted(r["name"] for r in result.rows) == [
        "@aws-sdk/client-lambda",
        "@cyclonedx/cyclonedx-npm",
        "lodash",
    ]
    assert "order-service" not in {r["name"] for r in result.rows}
    assert any("pypi: 1" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("purl", "parsed"),
    [
        (
            "pkg:npm/%40aws-sdk/client-lambda@3.1037.0",
            ("npm", "@aws-sdk/client-lambda", "3.1037.0"),
        ),
        ("pkg:npm/@types/node@20.1.0", ("npm", "@types/node", "20.1.0")),  # unencoded scope
        ("pkg:npm/@types/node", ("npm", "@types/node", None)),
        ("pkg:NPM/left-pad@1.3.0?download_url=x#sub/path", ("npm", "left-pad", "1.3.0")),
        ("pkg:npm/x@1.0.0%2Bbuild.5", ("npm", "x", "1.0.0+build.5")),
        ("pkg:pypi/requests@2.31.0", ("pypi", "requests", "2.31.0")),
    ],
)
def test_package_urls(purl: str, parsed: tuple[str, str, str | None]) -> None:
    got = _parse_purl(purl)
    assert got is not None and (got.type, got.name, got.version) == parsed


@pytest.mark.parametrize("text", ["npm/x@1", "pkg:", "pkg:npm", "pkg:npm/"])
def test_not_package_urls(text: str) -> None:
    assert _parse_purl(text) is None


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "truncated"),
        (b'{"bomFormat": "CycloneDX", "components": [', "truncated"),
        (b"{bomFormat: CycloneDX}", "not-json"),
        (b"\xff\xfe{\x00}\x00", "not-json"),
        (b"[1, 2]", "unsupported"),
        (b'{"name": "app", "version": "1.0.0"}', "unsupported"),  # a package.json named sbom.json
        (b'{"bomFormat": "SWID"}', "unsupported"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.1"}', "unsupported"),
        (b'{"spdxVersion": "SPDX-3.0"}', "unsupported"),
        (b'{"bomFormat": "CycloneDX", "specVersion": 1.5}', "invalid"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": {}}', "invalid"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [7]}', "invalid"),
        (b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": 7}]}', "invalid"),
        (b'{"spdxVersion": "2.3"}', "invalid"),
    ],
)
def test_bad_documents_raise(data: bytes, kind: str) -> None:
    raises_kind(parse_sbom, data, kind)


# Values and keys of both formats, so random documents reach deep into the readers.
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=6),
    st.sampled_from(
        ["pkg:npm/a@1.0.0", "pkg:npm/%40s/b@2", "^1.0.0", "SPDXRef-DOCUMENT", "DESCRIBES"]
    ),
)
_KEYS = st.sampled_from(
    [
        "components", "metadata", "component", "bom-ref", "name", "group", "version", "purl",
        "properties", "value", "scope", "dependencies", "ref", "dependsOn", "tools", "packages",
        "SPDXID", "versionInfo", "externalRefs", "referenceType", "referenceLocator",
        "relationships", "relationshipType", "spdxElementId", "relatedSpdxElement",
        "documentDescribes", "externalReferences", "sourceInfo", "packageFileName",
    ]
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(_KEYS, _VALUES, max_size=6),
    st.sampled_from(
        [{"bomFormat": "CycloneDX", "specVersion": "1.6"}, {"spdxVersion": "SPDX-2.3"}]
    ),
)
def test_random_documents_raise_only_input_error(
    body: dict[str, Any], header: dict[str, str]
) -> None:
    try:
        parse_sbom(_bytes({**body, **header}))
    except InputError as exc:
        assert exc.message


# --- in the inventory loader --------------------------------------------------------------------


def test_sboms_in_a_folder_are_read_by_content(tmp_path: Path) -> None:
    (tmp_path / "bom.cdx.json").write_bytes(_bytes(CYCLONEDX_NPM))
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "web.spdx.json").write_bytes(_bytes(GITHUB_EXPORT))
    (tmp_path / "sbom.json").write_text('{"name": "not-an-sbom", "version": "1.0.0"}')
    (tmp_path / "package-lock.json").write_text(lock_v3({"chalk": "5.6.1"}))
    # an SBOM shipped inside an installed package is not the project's
    shipped = tmp_path / "node_modules" / "x"
    shipped.mkdir(parents=True)
    (shipped / "bom.json").write_bytes(_bytes(GITHUB_EXPORT))
    log = EvidenceLog()
    frame = validate(load_inventory(tmp_path, log=log), "inventory")
    assert set(frame["lockfile_format"]) == {"cyclonedx-1.6", "spdx-2.3", "npm-lock-v3"}
    assert set(frame["file"]) == {"bom.cdx.json", "reports/web.spdx.json", "package-lock.json"}
    problems = log.problems
    assert list(problems["kind"]) == ["unsupported"]
    assert problems["evidence"].iloc[0] == str(tmp_path / "sbom.json")
    assert "neither a CycloneDX" in problems["message"].iloc[0]
    notes = log.inputs.set_index("file").loc["reports/web.spdx.json", "notes"]
    assert "lodash@^4.17.21" in notes


def test_sboms_at_git_refs(tmp_path: Path) -> None:
    repo = tmp_path / "svc"
    init_repo(repo)
    commit_files(repo, {"README.md": "svc\n"}, "init")
    git(repo, "checkout", "-q", "-b", "sbom")
    commit_files(repo, {"dist/app.sbom.json": _bytes(GITHUB_EXPORT).decode()}, "add sbom")
    git(repo, "checkout", "-q", "main")
    frame = load_inventory(repo, git_refs=True)
    assert set(frame["ref"]) == {"sbom"}
    assert set(frame["file"]) == {"dist/app.sbom.json"}
    assert set(frame["name"]) == {"@ctrl/tinycolor", "chalk"}
    assert set(frame["source"]) == {"git"}


def test_an_untyped_component_without_a_purl_is_read_by_name_and_said_so() -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [
            {"name": "debug", "version": "4.4.2"},  # hand-made: no purl, no type
            {"type": "library", "group": "@ctrl", "name": "tinycolor", "version": "4.1.1"},
            {"type": "operating-system", "name": "debian", "version": "12"},
            {"type": "library", "name": "Not An Npm Name", "version": "1.0"},
        ],
    }
    result = parse_sbom(json.dumps(bom).encode())
    assert {(r["name"], r["version"]) for r in result.rows} == {
        ("debug", "4.4.2"),
        ("@ctrl/tinycolor", "4.1.1"),
    }
    [assumed] = [w for w in result.warnings if "read as npm packages by name" in w]
    assert "debug@4.4.2" in assumed and "@ctrl/tinycolor@4.1.1" in assumed
    assert any("skipped" in w and "debian" in w for w in result.warnings)
