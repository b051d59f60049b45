"""Step 2 and step 6 from StepSecurity: NPM Package Search and Developer MDM package search.

Both searches answer "where is this package" across an org's default branches, pull requests
and workflow runs, or a tenant's developer machines, from StepSecurity's own index: no clone
and no machine access needed. What is documented of their shapes (StepSecurity's MCP server
and scripts) is followed; what is not (the inner layout of ``prs``/``workflow_runs``, the
unit of the epoch numbers) is handled defensively and said in the ``inputs`` notes, and the raw
JSON of each hit is kept in its ``evidence``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import orjson
import pandas as pd

from ircore._frames import new_frame, validate
from ircore._log import EvidenceLog
from ircore.http import Client, SourceError, _truthy

__all__ = [
    "load_stepsecurity_mdm_search",
    "load_stepsecurity_npm_search",
    "stepsecurity_client",
]

SOURCE = "stepsecurity"
MDM_SOURCE = "stepsecurity-mdm"
BASE_URL = "https://agent.api.stepsecurity.io/v1"
KEY_ENV = "STEPSECURITY_API_KEY"
# StepSecurity's run listings refuse a start_time more than 90 days back; whether the package
# search does too is not documented, so a longer window is sent as asked and flagged.
WINDOW_DAYS = 90
# 1e11 seconds after 1970 is the year 5138, 1e11 milliseconds is March 1973: any real time
# stamp in this kit's range is unambiguous on one side of it.
_MS_FROM = 1e11


def stepsecurity_client(
    *, base_url: str = BASE_URL, key_env: str = KEY_ENV, source: str = SOURCE, **options: Any
) -> Client:
    """A :class:`~ircore.http.Client` for the StepSecurity API (``options`` go to it)."""
    headers = {"Accept": "application/json", **options.pop("headers", {})}
    return Client(
        base_url=base_url,
        source=source,
        token_env=key_env,
        token_required=True,
        headers=headers,
        **options,
    )


def _epoch(value: Any) -> tuple[pd.Timestamp | None, str]:
    """A time stamp from an epoch number of unknown unit; also the unit read (``s``/``ms``).

    0, null and negative numbers mean "never" (StepSecurity writes 0 for "not seen"). ISO
    strings are accepted too, in case the API changes.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None, ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        try:
            return pd.Timestamp(str(value)).tz_convert("UTC"), "iso"
        except (TypeError, ValueError):
            return None, "unreadable"
    if not math.isfinite(number) or number <= 0:
        return None, ""
    unit = "ms" if number >= _MS_FROM else "s"
    seconds = number / 1000 if unit == "ms" else number
    return pd.Timestamp(seconds, unit="s", tz="UTC"), unit


def _units_note(units: Iterable[str], fields: str) -> str:
    seen = {u for u in units if u}
    names = {"s": "epoch seconds", "ms": "epoch milliseconds", "iso": "ISO-8601 text"}
    read = " and ".join(names[u] for u in sorted(seen) if u in names)
    if not read:
        return ""
    note = f"{fields} read as {read} (decided by magnitude per value: the unit is not documented)"
    if "unreadable" in seen:
        note += "; some values could not be read as times and were left empty"
    return note


def _stamp(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # naive times are taken as UTC
    return int(when.timestamp())


def _raw(data: Mapping[str, Any]) -> str:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def _keys(value: Any) -> list[tuple[str, Any]]:
    """The entries of a ``prs``/``workflow_runs`` map, or of a list should the API send one."""
    if isinstance(value, Mapping):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, Mapping):
                key = next(
                    (item[k] for k in ("number", "pr_number", "run_id", "id") if k in item), ""
                )
                out.append((str(key), item))
            else:
                out.append((str(item), item))
        return out
    return []


def _search_rows(
    hit: Mapping[str, Any], *, owner: str, url: str, units: list[str]
) -> list[dict[str, Any]]:
    """Inventory rows of one search hit: one per default-branch file, PR and workflow run."""
    base = {
        "name": str(hit["package"]),
        "version": str(hit["version"]),
        "repo": str(hit.get("repo") or ""),
        "host": "",
        "source": SOURCE,
    }
    ident = {k: hit.get(k) for k in ("owner", "repo", "package", "version")}
    ident["owner"] = ident["owner"] or owner
    rows: list[dict[str, Any]] = []

    first, first_unit = _epoch(hit.get("first_seen_in_default_branch"))
    last, last_unit = _epoch(hit.get("last_seen_in_default_branch"))
    units.extend((first_unit, last_unit))
    files = hit.get("source_files_in_default_branch") or []
    files = [str(f) for f in files] if isinstance(files, list) else [str(files)]
    if files or _truthy(hit.get("seen_in_default_branch")):
        default_raw = {
            k: hit.get(k)
            for k in (
                "seen_in_default_branch",
                "first_seen_in_default_branch",
                "last_seen_in_default_branch",
                "source_files_in_default_branch",
            )
        }
        evidence = f"{url} {_raw({**ident, **default_raw})}"
        for file in files or [""]:
            rows.append(
                {
                    **base,
                    "ref": "",
                    "surface": "default_branch",
                    "file": file,
                    "first_seen": first,
                    "last_seen": last,
                    "evidence": evidence,
                }
            )

    for field, surface, seen_flag in (
        ("prs", "pull_request", "seen_in_any_prs"),
        ("workflow_runs", "workflow_run", "seen_in_any_workflow_runs"),
    ):
        entries = _keys(hit.get(field))
        for key, value in entries:
            if surface == "pull_request":
                ref = f"pull/{key}/head" if key.isdigit() else key
            else:
                ref = f"actions/runs/{key}" if key.isdigit() else key
            rows.append(
                {
                    **base,
                    "ref": ref,
                    "surface": surface,
                    "file": "",
                    "evidence": f"{url} {_raw({**ident, field: {key: value}})}",
                }
            )
        if not entries and _truthy(hit.get(seen_flag)):
            # The flag says it was seen there but the map names no PR or run: keep the claim.
            rows.append(
                {
                    **base,
                    "ref": "",
                    "surface": surface,
                    "file": "",
                    "evidence": f"{url} {_raw({**ident, seen_flag: hit.get(seen_flag)})}",
                }
            )
    return rows


def load_stepsecurity_npm_search(
    owner: str,
    packages: Mapping[str, Sequence[str]],
    *,
    base_url: str = BASE_URL,
    key_env: str = KEY_ENV,
    start: datetime | None = None,
    end: datetime | None = None,
    log: EvidenceLog | None = None,
    client: Client | None = None,
) -> pd.DataFrame:
    """Ask StepSecurity NPM Package Search where ``packages`` appear in a GitHub org.

    ``POST {base_url}/github/{owner}/npm-packages/search``, authenticated with the key in
    ``key_env``. Each hit becomes one row per place it was seen.

    Parameters
    ----------
    owner
        The GitHub organization as StepSecurity knows it.
    packages
        Package name to the versions searched for; an empty list searches every version.
    base_url, key_env
        The API root and the environment variable holding the API key (Bearer).
    start, end
        The search window (naive times are taken as UTC), sent as epoch seconds. Given a
        ``start`` without ``end``, the window ends now. StepSecurity refuses windows over 90
        days for run listings; a longer one is sent as asked and flagged in the notes.
    log
        Receives the search as an input (notes on what is undocumented) or as a problem.
    client
        A configured :class:`ircore.http.Client` instead of one built from ``base_url`` and
        ``key_env``; it is not closed here.

    Returns
    -------
    pandas.DataFrame
        The ``inventory`` schema, source ``stepsecurity``. ``surface`` is ``default_branch``
        (one row per ``source_files_in_default_branch`` entry, ``file`` set, ``first_seen`` /
        ``last_seen`` from the default-branch times), ``pull_request`` (one row per key of
        ``prs``, ``ref`` ``pull/N/head``) or ``workflow_run`` (one per key of
        ``workflow_runs``, ``ref`` ``actions/runs/N``). ``name``, ``version``, ``repo``,
        ``ref``, ``file``, ``surface``, ``source``, ``evidence`` (string: the search URL
        followed by the hit's raw JSON for that place); ``first_seen``, ``last_seen``
        (datetime64[ns, UTC]); the lockfile columns are NA (the search does not say).
    """
    log = log if log is not None else EvidenceLog()
    own = client is None
    http = client if client is not None else stepsecurity_client(base_url=base_url, key_env=key_env)
    path = f"/github/{quote(owner, safe='')}/npm-packages/search"
    url = http.redact(http.url(path))
    body: dict[str, Any] = {
        "owner": owner,
        "packages": [
            {"package": n, "versions": [str(v) for v in vs]} for n, vs in packages.items()
        ],
        "seen_only_in_prs": False,
    }
    notes: list[str] = []
    if start is not None or end is not None:
        now = datetime.now(timezone.utc)
        begin = _stamp(start) if start is not None else None
        body["end_time"] = _stamp(end if end is not None else now)
        if begin is not None:
            body["start_time"] = begin
            if begin < (now - timedelta(days=WINDOW_DAYS)).timestamp():
                notes.append(
                    f"the window starts more than {WINDOW_DAYS} days ago, which StepSecurity "
                    "refuses for run listings; if hits are missing, narrow it"
                )
    try:
        try:
            data = http.post_json(path, body)
        except SourceError as exc:
            hint = f" ({notes[0]})" if notes and exc.status in (400, 422) else ""
            log.failed(
                source=SOURCE,
                evidence=exc.url,
                kind=exc.kind,
                message=f"NPM Package Search of {owner} failed: {exc.message}{hint}; where the "
                "packages are in this org's default branches, pull requests and runs is unknown",
                format="stepsecurity-npm-search",
            )
            return validate(new_frame("inventory"), "inventory")
    finally:
        if own:
            http.close()

    hits = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(data, dict) or (hits is not None and not isinstance(hits, list)):
        log.failed(
            source=SOURCE,
            evidence=url,
            kind="invalid",
            message=f"NPM Package Search of {owner} answered no 'packages' list; its hits "
            "could not be read",
            format="stepsecurity-npm-search",
        )
        return validate(new_frame("inventory"), "inventory")
    rows: list[dict[str, Any]] = []
    units: list[str] = []
    unreadable = 0
    for hit in hits or []:
        if not isinstance(hit, dict) or not hit.get("package") or not hit.get("version"):
            unreadable += 1
            continue
        rows.extend(_search_rows(hit, owner=owner, url=url, units=units))
    if unreadable:
        log.problem(
            source=SOURCE,
            evidence=url,
            kind="invalid",
            message=f"{unreadable} hits of NPM Package Search of {owner} name no package or "
            "version; they are not in the inventory",
        )
    if _truthy(data.get("has_more")) or data.get("next_token"):
        log.problem(
            source=SOURCE,
            evidence=url,
            kind="pagination",
            message=f"NPM Package Search of {owner} says it has more results; paging this "
            "search is not documented, so the later ones were not read",
        )
    notes.append(_units_note(units, "first/last_seen_in_default_branch"))
    notes.append(
        "the layout of prs and workflow_runs is not documented: their keys are read as PR "
        "numbers and run ids, and each row's evidence keeps the raw JSON"
    )
    extra = data.get("packages_with_ai_analysis")
    if isinstance(extra, list) and extra:
        notes.append(f"packages_with_ai_analysis ({len(extra)} entries) is not read")
    log.input(
        source=SOURCE,
        evidence=url,
        status="parsed" if rows else "empty",
        format="stepsecurity-npm-search",
        packages=len(rows),
        notes="; ".join(n for n in notes if n),
    )
    return validate(new_frame("inventory", rows), "inventory")


def load_stepsecurity_mdm_search(
    customer: str,
    packages: Mapping[str, Sequence[str]],
    *,
    base_url: str = BASE_URL,
    key_env: str = KEY_ENV,
    log: EvidenceLog | None = None,
    client: Client | None = None,
) -> pd.DataFrame:
    """Ask StepSecurity Developer MDM which developer machines have ``packages`` installed.

    ``POST {base_url}/{customer}/developer-mdm/npm-packages/search``. The server ignores the
    version filter (StepSecurity's own client says so), so all versions are asked for and the
    installations are filtered here; how many were left out is in the input's notes.

    Parameters
    ----------
    customer
        The StepSecurity tenant id.
    packages
        Package name to the versions wanted; an empty list keeps every version.
    base_url, key_env
        The API root and the environment variable holding the API key (Bearer).
    log
        Receives the search as an input (notes) or as a problem.
    client
        A configured :class:`ircore.http.Client`; it is not closed here.

    Returns
    -------
    pandas.DataFrame
        The ``inventory`` schema, source ``stepsecurity-mdm``, surface ``host``: ``name``,
        ``version``, ``host`` (hostname), ``user`` (user_identity), ``file`` (the project path
        when the API gives one), ``evidence`` (string: search URL and device id);
        ``direct`` (boolean, from ``is_direct``); ``first_seen``, ``last_seen``
        (datetime64[ns, UTC], from ``first_seen_at``/``last_seen_at``).
    """
    log = log if log is not None else EvidenceLog()
    own = client is None
    http = (
        client
        if client is not None
        else stepsecurity_client(base_url=base_url, key_env=key_env, source=MDM_SOURCE)
    )
    path = f"/{quote(customer, safe='')}/developer-mdm/npm-packages/search"
    url = http.redact(http.url(path))
    body = {"packages": [{"name": name, "version": ""} for name in packages]}
    try:
        try:
            data = http.post_json(path, body)
        except SourceError as exc:
            log.failed(
                source=MDM_SOURCE,
                evidence=exc.url,
                kind=exc.kind,
                message=f"Developer MDM package search of {customer} failed: {exc.message}; "
                "which developer machines have the packages is unknown",
                format="stepsecurity-mdm-search",
            )
            return validate(new_frame("inventory"), "inventory")
    finally:
        if own:
            http.close()

    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(data, dict) or (results is not None and not isinstance(results, list)):
        log.failed(
            source=MDM_SOURCE,
            evidence=url,
            kind="invalid",
            message=f"Developer MDM package search of {customer} answered no 'results' list",
            format="stepsecurity-mdm-search",
        )
        return validate(new_frame("inventory"), "inventory")
    wanted = {name: {str(v) for v in versions} for name, versions in packages.items()}
    rows: list[dict[str, Any]] = []
    units: list[str] = []
    total = filtered = unreadable = global_installs = 0
    for result in results or []:  # null when nothing matched
        installs = result.get("installations") if isinstance(result, dict) else None
        for install in installs if isinstance(installs, list) else []:
            total += 1
            if not isinstance(install, dict):
                unreadable += 1
                continue
            name = install.get("package_name") or result.get("package_name")
            version = install.get("package_version") or result.get("package_version")
            if not name or not version:
                unreadable += 1
                continue
            versions = wanted.get(str(name))
            if versions is None or (versions and str(version) not in versions):
                filtered += 1
                continue
            first, first_unit = _epoch(install.get("first_seen_at"))
            last, last_unit = _epoch(install.get("last_seen_at"))
            units.extend((first_unit, last_unit))
            global_installs += bool(install.get("is_global"))
            direct = install.get("is_direct")
            device = install.get("device_id") or install.get("customer_device") or ""
            rows.append(
                {
                    "name": str(name),
                    "version": str(version),
                    "direct": direct if isinstance(direct, bool) else None,
                    "file": str(
                        install.get("project_path")
                        or install.get("file_path")
                        or install.get("path")
                        or ""
                    ),
                    "repo": "",
                    "ref": "",
                    "surface": "host",
                    "host": str(install.get("hostname") or device),
                    "user": str(install.get("user_identity") or ""),
                    "first_seen": first,
                    "last_seen": last,
                    "source": MDM_SOURCE,
                    "evidence": f"{url} device {device}",
                }
            )
    if unreadable:
        log.problem(
            source=MDM_SOURCE,
            evidence=url,
            kind="invalid",
            message=f"{unreadable} installations in the Developer MDM search of {customer} "
            "name no package or version; they are not in the inventory",
        )
    notes = [
        "the server ignores the version filter: "
        + (
            f"{filtered} of {total} installations were of other versions or packages and were "
            "left out"
            if filtered
            else f"all {total} installations were of the versions asked for"
        ),
        _units_note(units, "first_seen_at/last_seen_at"),
    ]
    if global_installs:
        notes.append(f"{global_installs} of the installations kept are global installs")
    log.input(
        source=MDM_SOURCE,
        evidence=url,
        status="parsed" if rows else "empty",
        format="stepsecurity-mdm-search",
        packages=len(rows),
        notes="; ".join(n for n in notes if n),
    )
    return validate(new_frame("inventory", rows), "inventory")
