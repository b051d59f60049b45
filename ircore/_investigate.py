"""From an incident spec and its sources to an :class:`Investigation`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from ircore._config import Sources, load_incident, load_sources
from ircore._errors import ConfigError, InvalidVersion
from ircore._frames import new_frame
from ircore._investigation import Incident, Investigation
from ircore._log import EvidenceLog
from ircore.analysis import match_exposure
from ircore.inventory import _scan, load_hosts
from ircore.inventory._github import load_github_inventory
from ircore.inventory._stepsecurity import (
    load_stepsecurity_mdm_search,
    load_stepsecurity_npm_search,
)
from ircore.registry import load_versions
from ircore.semver import parse_version
from ircore.threats import (
    analyst_iocs,
    extract_iocs,
    load_advisories_and_iocs,
    load_github_advisories,
    load_github_advisories_files,
    load_osv_api,
    load_threat_center,
    load_threat_center_export,
    merge_aliases,
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "incident"


def incident_claims(incident: Incident) -> pd.DataFrame:
    """The analyst's own claims from the incident spec, as ``advisories`` rows."""
    rows: list[dict[str, Any]] = []
    for package, specs in incident.packages.items():
        for spec in specs:
            try:
                parse_version(spec)
                kind = "exact"
            except InvalidVersion:
                kind = "npm_range"
            rows.append(
                {
                    "advisory_id": f"incident:{_slug(incident.name)}",
                    "aliases": "",
                    "ecosystem": "npm",
                    "package": package,
                    "spec_kind": kind,
                    "spec": spec,
                    "role": "affected",
                    "origin": "analyst (incident spec)",
                    "classification": "malware",
                    "severity": "",
                    "summary": incident.summary,
                    "published": None,
                    "modified": None,
                    "source": "incident",
                    "evidence": "incident spec",
                }
            )
    return new_frame("advisories", rows)


def investigate(incident: Incident | str | Path, sources: Sources | str | Path) -> Investigation:
    """Gather the evidence for an incident: advisories, inventory, exposure, problems, inputs.

    Parameters
    ----------
    incident
        An :class:`Incident` or the path of an incident spec YAML file.
    sources
        A :class:`Sources` or the path of a sources YAML file.
    """
    if not isinstance(incident, Incident):
        incident = load_incident(incident)
    if not isinstance(sources, Sources):
        sources = load_sources(sources)
    log = EvidenceLog()
    loaded, file_iocs = (
        load_advisories_and_iocs(sources.advisories, log=log)
        if sources.advisories
        else (None, new_frame("iocs"))
    )
    # Every advisory the sources hold takes part in matching, not only the incident's packages:
    # a list the analyst added as a source is evidence, and dropping it would turn a finding
    # into "not affected".
    frames = [incident_claims(incident)]
    if loaded is not None:
        frames.append(loaded)
    advisories = pd.concat([f for f in frames if not f.empty] or frames, ignore_index=True)
    inventory, declared = gather_inventory(
        sources, packages=searched_packages(incident, advisories), log=log
    )
    live_iocs: list[pd.DataFrame] = []
    live = gather_advisories(
        sources, incident=incident, inventory=inventory, log=log, indicators=live_iocs
    )
    advisories = merge_aliases(
        pd.concat([f for f in (advisories, live) if not f.empty] or [advisories], ignore_index=True)
    )
    _named_but_missing(incident, advisories, sources, log)
    iocs = gather_iocs(incident, pd.concat([file_iocs, *live_iocs], ignore_index=True), live)
    exposure = match_exposure(inventory, advisories, log=log)
    versions = new_frame("versions")
    if sources.registry is not None:
        registry = sources.registry
        versions = load_versions(
            claimed_versions(incident, advisories),
            base_url=registry.url,
            cache_dir=registry.cache,
            offline=registry.offline,
            log=log,
        )
    return Investigation(
        incident=incident,
        advisories=advisories,
        inventory=inventory,
        declared=declared,
        exposure=exposure,
        versions=versions,
        iocs=iocs,
        problems=log.problems,
        inputs=log.inputs,
    )


def gather_iocs(incident: Incident, file_iocs: pd.DataFrame, live: pd.DataFrame) -> pd.DataFrame:
    """The analyst's indicators, those OSV files hold, and those in live advisories' summaries."""
    frames = [
        analyst_iocs(
            incident.indicators,
            advisory_id=f"incident:{_slug(incident.name)}",
            evidence="incident spec",
        ),
        file_iocs,
    ]
    # Threat Center incidents were searched whole (details included) as they were read.
    prose = live.loc[~live["source"].isin(["threat-center", "threat-center-export"])]
    if not prose.empty:
        firsts = prose.drop_duplicates("advisory_id")
        texts = {
            c: firsts[c].astype("string").fillna("").tolist()
            for c in ("advisory_id", "summary", "source", "evidence")
        }
        for advisory_id, summary, source, evidence in zip(*texts.values(), strict=True):
            packages = prose.loc[prose["advisory_id"] == advisory_id, "package"].dropna()
            frames.append(
                extract_iocs(
                    summary,
                    advisory_id=advisory_id,
                    source=source,
                    evidence=evidence,
                    packages=sorted(set(packages)),
                )
            )
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else new_frame("iocs")


def _named_but_missing(
    incident: Incident, advisories: pd.DataFrame, sources: Sources, log: EvidenceLog
) -> None:
    """An advisory the incident names that no source holds: its versions are not checked."""
    known = set(advisories["advisory_id"].dropna()) | {
        alias.strip()
        for aliases in advisories["aliases"].dropna()
        for alias in aliases.split(",")
        if alias.strip()
    }
    missing = sorted(set(incident.advisories) - known)
    apis = sources.advisory_apis
    if missing and not (
        sources.advisories
        or sources.ghsa_files
        or sources.threat_center_exports
        or apis.osv
        or apis.github
        or apis.threat_center
    ):
        log.problem(
            source="advisories",
            evidence=", ".join(missing),
            kind="not-found",
            message="the incident names advisories but the sources list no advisory files "
            "or advisory APIs",
        )
        return
    for advisory_id in missing:
        log.problem(
            source="advisories",
            evidence=advisory_id,
            kind="not-found",
            message=f"advisory {advisory_id} named by the incident is in none of the "
            "advisory sources; its versions are not checked",
        )


def claimed_versions(incident: Incident, advisories: pd.DataFrame) -> dict[str, list[str]]:
    """The packages to look up in the registry, with the exact versions claimed compromised."""
    names = searched_packages(incident, advisories)
    exact = advisories.loc[
        (advisories["role"] == "affected")
        & (advisories["spec_kind"] == "exact")
        & advisories["package"].isin(names)
    ]
    claimed: dict[str, list[str]] = {name: [] for name in names}
    for name, spec in zip(exact["package"], exact["spec"], strict=True):
        if spec not in claimed[name]:
            claimed[name].append(str(spec))
    return claimed


def gather_advisories(
    sources: Sources,
    *,
    incident: Incident,
    inventory: pd.DataFrame,
    log: EvidenceLog,
    indicators: list[pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Ask the live advisory sources the config enables.

    OSV.dev is asked about every distinct registry (package, version) the inventory holds (its
    querybatch is made for that); GitHub's advisory database about the incident's packages;
    Threat Center for the org's incidents.
    """
    apis = sources.advisory_apis
    frames: list[pd.DataFrame] = []
    if sources.ghsa_files:
        frames.append(load_github_advisories_files(sources.ghsa_files, log=log))
    if sources.threat_center_exports:
        frames.append(
            load_threat_center_export(sources.threat_center_exports, log=log, indicators=indicators)
        )
    if apis.osv and not inventory.empty:
        registry_rows = inventory["origin_kind"].fillna("registry") == "registry"
        pairs = inventory.loc[registry_rows, ["name", "version"]].dropna().drop_duplicates()
        pairs = pairs.loc[pairs["version"] != ""]
        frames.append(
            load_osv_api(
                list(zip(pairs["name"], pairs["version"], strict=True)),
                base_url=apis.osv_url,
                log=log,
            )
        )
    ghsa_ids = [a for a in incident.advisories if a.startswith("GHSA-")]
    if apis.github and not (incident.packages or ghsa_ids):
        log.problem(
            source="ghsa",
            evidence=apis.github_url,
            kind="not-asked",
            message="GitHub's advisory database was not asked: the incident names no package "
            "and no GHSA id (asking about every package found would take thousands of requests)",
        )
    elif apis.github:
        names = sorted(incident.packages)
        frames.append(
            load_github_advisories(
                packages=names,
                ghsa_ids=ghsa_ids,
                base_url=apis.github_url,
                token_env=apis.github_token_env,
                log=log,
            )
        )
    if apis.threat_center and sources.stepsecurity is not None:
        frames.append(
            load_threat_center(
                sources.stepsecurity.owner,
                base_url=sources.stepsecurity.api_url,
                key_env=sources.stepsecurity.key_env,
                log=log,
                indicators=indicators,
            )
        )
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else new_frame("advisories")


def searched_packages(incident: Incident, advisories: pd.DataFrame) -> list[str]:
    """The package names to ask search APIs about: the incident's, else every affected one."""
    named = set(incident.packages)
    if incident.advisories:
        chosen = advisories["advisory_id"].isin(incident.advisories)
        named |= set(advisories.loc[chosen, "package"].dropna())
    if not named:
        named = set(advisories.loc[advisories["role"] == "affected", "package"].dropna())
    return sorted(named)


def gather_inventory(
    sources: Sources, *, packages: list[str], log: EvidenceLog
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every inventory source the config names, into one ``inventory`` and one ``declared``.

    Search APIs (StepSecurity) are asked about ``packages`` at any version: matching is done
    here, against every claim, not by the server.
    """
    inventories: list[pd.DataFrame] = []
    declared = new_frame("declared")
    if sources.repos:
        scan = _scan(
            sources.repos,
            repo=None,
            git_refs=sources.git_refs,
            host="",
            log=log,
            inventory=True,
            declared=True,
            installed=False,
        )
        inventories.append(new_frame("inventory", scan.inventory_rows))
        declared = new_frame("declared", scan.declared_rows)
    if sources.hosts:
        inventories.append(load_hosts(sources.hosts, log=log))
    if sources.github is not None:
        github = sources.github
        inventories.append(
            load_github_inventory(
                github.org,
                base_url=github.api_url,
                token_env=github.token_env,
                repos=github.repos or None,
                pull_requests=github.pull_requests,
                sbom=github.sbom,
                log=log,
            )
        )
    stepsecurity = sources.stepsecurity
    if stepsecurity is not None and packages:
        wanted: dict[str, list[str]] = {name: [] for name in packages}
        if stepsecurity.owner:
            inventories.append(
                load_stepsecurity_npm_search(
                    stepsecurity.owner,
                    wanted,
                    base_url=stepsecurity.api_url,
                    key_env=stepsecurity.key_env,
                    log=log,
                )
            )
        if stepsecurity.customer:
            inventories.append(
                load_stepsecurity_mdm_search(
                    stepsecurity.customer,
                    wanted,
                    base_url=stepsecurity.api_url,
                    key_env=stepsecurity.key_env,
                    log=log,
                )
            )
    elif stepsecurity is not None:
        log.problem(
            source="stepsecurity",
            evidence=stepsecurity.api_url,
            kind="not-asked",
            message="StepSecurity was not searched: the incident and advisories name no package",
        )
    frames = [f for f in inventories if not f.empty]
    inventory = pd.concat(frames, ignore_index=True) if frames else new_frame("inventory")
    return inventory, declared


def open_investigation(
    *,
    evidence: str | Path | None = None,
    incident: str | Path | None = None,
    sources: str | Path | None = None,
) -> Investigation:
    """What a notebook's parameters name: fresh evidence from spec files, or a saved investigation.

    With ``incident`` and ``sources`` (paths of the YAML files) the evidence is gathered now, as
    an analyst does in JupyterLab; otherwise ``evidence`` is a folder written by
    :meth:`Investigation.save`, as ``ircore report`` passes it.
    """
    if incident and sources:
        return investigate(incident, sources)
    if incident or sources:
        raise ConfigError("give both 'incident' and 'sources' (paths of the YAML files)")
    if not evidence:
        raise ConfigError("give 'evidence' (a folder of saved frames) or 'incident' and 'sources'")
    folder = Path(evidence)
    if not (folder / "incident.json").is_file():
        raise ConfigError(f"{folder} holds no saved investigation (no incident.json)")
    return Investigation.load(folder)
