"""Indicators of compromise into the ``iocs`` frame: from advisory text, structured fields, the analyst.

Three ways in, one frame out, told apart by ``confidence``:

- :func:`extract_iocs` reads prose (OSV/GHSA ``details``, Threat Center markdown): ``extracted``.
- :func:`structured_iocs` reads the fields an OSV record gives for indicators: ``structured``.
- :func:`analyst_iocs` reads what an analyst wrote in the incident spec: ``analyst``.

What the extractor decides, so an analyst's time goes to real indicators:

- **Re-fanging.** ``[.]`` ``(.)`` ``{.}`` ``[dot]`` (also with a space either side), ``hxxp(s)``,
  ``h**p(s)``, ``[:]``, ``[://]``, ``[@]`` and markdown escapes (``evil\\.com``) are undone
  before anything is read. Hosts are lower-cased; trailing punctuation, emphasis markers, code
  spans, quotes and markdown link syntax (``[text](url)``, ``<url>``) are taken apart.
- **Top-level domains** come from the ICANN section of the Public Suffix List as shipped inside
  the ``publicsuffixlist`` package (no network, no dependencies of its own, updated with each
  release): attackers favour new gTLDs (``npmjs.help``, ``checkmarx.cx``, ``sol-rpc.xyz``), so a
  short list of common TLDs would miss them. ``tldextract`` ships a snapshot too but fetches by
  default and brings ``requests``.
- **Files before domains.** A bare token whose last label is a script, binary, archive or
  workflow extension is a file even where that label is also a TLD (``setup.sh``, ``ld.py``,
  ``payload.zip``); in a URL's host position it is a host. ``README.md``, ``package.json``,
  lockfiles, shell rc files and runtime names (``Node.js``) are neither. Dotted code identifiers
  (``window.ethereum``, ``pkg.name``, camelCase) are not domains.
- **References, not indicators.** Links a reader follows (advisory databases, registries, code
  hosts, security vendors and news sites, and any ``/blog/`` or ``/news/`` page) and anything
  inside a citation bracket (``[S: dev.to]``, ``[P: …]``, ``[source: …]``) get ``ioc_type``
  ``reference``: kept for provenance, never matched against network events. Look-alikes are not
  references (``npmjs.help`` is not ``npmjs.com``).
- **GitHub.** A ``https://github.com/...`` link is a reference, and a commit sha inside it stays
  part of that URL (it is not a file hash). A bare ``github.com/owner/repo`` mention is a
  ``repository``, as is a link to a repository whose name the text says the malware creates
  (repos "named Shai-Hulud") or one of the known exfiltration names (``Shai-Hulud``,
  ``s1ngularity-repository``). Release downloads and ``/raw/`` links are ``url`` indicators.
- **Hashes** are SHA-256 and SHA-1 hex digests standing alone (not part of a longer run of
  letters or digits, so a 0x wallet or a 64-hex private key is not read as one). Not read as
  file hashes: digests on an OSV ``## Source: feed (sha256)`` heading (the feed report's own
  digest), a 40-hex right after the word "commit", and hex inside URLs, except a VirusTotal
  file-report link, whose hash is the sample's.
- **IPs.** A dotted quad next to "version"/"v" or inside ``name@version`` is a version;
  unspecified, loopback and broadcast addresses are not indicators. IPv6 only where it is
  clearly an address (a ``::`` with two groups, or eight groups, holding a digit).
- **URLs** keep their explicit port in the value; ``port`` holds it, or the scheme's default.
  A URL's host is also listed as a ``domain``/``ip`` row (``port`` only when explicit).
- **Wallets** (ETH ``0x`` + 40 hex; BTC bech32 and Base58Check, TRON, both with their checksums
  verified; Monero 95-character addresses; Solana keys only where the sentence says Solana).
- **Process names** only where the text says so: "process (named) `x`", or a verb like "runs"
  followed by a code span (runs `rundll32`) or a CamelCase tool name (``runs XMRig``);
  interpreters and shells (``node``, ``sh``, ``curl``) are not indicators.
- ``package_version`` rows are ``name@version`` tokens whose version is SemVer; ``email`` rows
  are addresses (attacker accounts are often given that way).

Every pattern is linear: tokens are maximal runs found by simple character classes, defangs are
literal substitutions, and the heavier checks (hosts, files, URLs) run only on tokens of bounded
length, so a megabyte of dots or letters is read in one pass.

Rows are deduplicated within one call on (``ioc_type``, ``value``, ``port``); a bare mention is
dropped when the same indicator also appears with a port. ``ioc_id`` is a short stable hash of
(``ioc_type``, ``value``): the same indicator has the same id in every advisory and source.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from publicsuffixlist import PublicSuffixList

from ircore._errors import ConfigError, InvalidVersion
from ircore._frames import new_frame
from ircore.semver import parse_version

__all__ = ["analyst_iocs", "extract_iocs", "ioc_id", "refang", "structured_iocs"]

IOC_TYPES = frozenset(
    {
        "domain",
        "ip",
        "url",
        "sha256",
        "sha1",
        "md5",
        "integrity",  # an SRI string (sha512-…), as in packuments and lockfiles
        "tlsh",
        "file_name",
        "process",
        "repository",
        "package_version",
        "wallet",
        "email",
        "reference",
        "hash",  # a digest whose algorithm the source did not say and its length does not tell
        "other",  # a value under an indicator key this module does not know (kept, not dropped)
    }
)

# Tokens longer than this are not hosts, URLs or paths; they are still searched for hashes and
# wallets. It keeps the per-token checks bounded whatever the input.
_MAX_TOKEN = 2048
_MAX_URL = 4096

# --- re-fanging ---------------------------------------------------------------------------

_SPACED_DEFANG = re.compile(r"[ \t]{0,2}[\[({][ \t]?(\.|dot)[ \t]?[\])}][ \t]{0,2}", re.IGNORECASE)
_DEFANG_DOT = re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}", re.IGNORECASE)
_DEFANG_SEP = re.compile(r"\[://\]|\[:\]//|\[:/\]/|:\[//\]")
_DEFANG_COLON = re.compile(r"\[:\]")
_DEFANG_AT = re.compile(r"\[@\]|\[at\]|\(at\)", re.IGNORECASE)
_DEFANG_SCHEME = re.compile(r"\bh(?:xx|\*\*)p(s?)(?=:|\[:)", re.IGNORECASE)
_DEFANG_FTP = re.compile(r"\bfxp(?=s?:|s?\[:)", re.IGNORECASE)
_MD_ESCAPE = re.compile(r"\\([._\-*#+!~])")


def refang(text: str) -> str:
    """Undo the usual defanging (``evil[.]com``, ``hxxps[://]``, ``a[@]b``) in ``text``."""
    text = _DEFANG_DOT.sub(".", text)
    text = _DEFANG_SEP.sub("://", text)
    text = _DEFANG_COLON.sub(":", text)
    text = _DEFANG_AT.sub("@", text)
    text = _DEFANG_SCHEME.sub(r"http\1", text)
    return _DEFANG_FTP.sub("ftp", text)


# --- what counts as what ------------------------------------------------------------------


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # ICANN only: private suffixes (github.io, …) are hosting platforms, not TLDs.
    return PublicSuffixList(only_icann=True)


_SCRIPT_EXTS = _set(
    """js cjs mjs jsx ts tsx sh bash zsh ps1 psm1 bat cmd vbs vbe wsf hta py rb php exe dll so dylib
    bin scr msi jar apk dmg pkg deb rpm lnk tgz tar gz tar.gz tar.xz tar.bz2 zip 7z rar xz bz2 whl
    crx gyp"""
)
# Data and workflow files the malware writes or plants (cloud.json, discussion.yaml, results.b64).
_DATA_EXTS = _set("json yml yaml txt plist service desktop b64")
_FILE_EXTS = _SCRIPT_EXTS | _DATA_EXTS
# Extensions that are TLDs but in a bare token are documents, never hosts.
_NOT_HOST_EXTS = _FILE_EXTS | {"md", "mov", "csv", "html", "htm"}
# Files every project or home directory has: naming one is not an indicator.
_COMMON_FILES = _set(
    """package.json package-lock.json npm-shrinkwrap.json yarn.lock pnpm-lock.yaml
    pnpm-workspace.yaml bun.lock bun.lockb tsconfig.json jsconfig.json .npmrc .yarnrc .yarnrc.yml
    .bashrc .zshrc .profile .bash_profile .gitconfig requirements.txt composer.json
    application_default_credentials.json"""
)
# Runtimes and frameworks written like file names.
_PRODUCT_NAMES = _set(
    """node.js next.js vue.js react.js nuxt.js express.js three.js d3.js chart.js ember.js
    angular.js backbone.js alpine.js solid.js p5.js deno.js bun.js"""
)
# First labels that make ``x.tld`` a property access in code, not a host (pkg.name, user.id).
_CODE_OBJECTS = _set(
    """window document navigator globalthis global process module exports require this self
    pkg package user req request res response os fs path obj options opts config ctx app err
    error data event e el console json math buffer crypto keypair"""
)
# Hosts a reader follows to read about an incident; exact names (subdomains of code hosts and
# registries can be attacker content: gist.github.com, raw.githubusercontent.com, *.github.io).
_REFERENCE_HOSTS = _set(
    """github.com www.github.com docs.github.com gitlab.com www.gitlab.com bitbucket.org
    npmjs.com www.npmjs.com docs.npmjs.com npmjs.org www.npmjs.org registry.npmjs.org
    blog.npmjs.org status.npmjs.org nodejs.org yarnpkg.com pnpm.io socket.io"""
)
# Registrable domains whose every subdomain is a reference: advisory databases, security
# vendors, news. Matched on the registrable domain, so ``npmjs.help`` never passes as npmjs.
_REFERENCE_DOMAINS = _set(
    """osv.dev deps.dev nist.gov cve.org mitre.org cisa.gov first.org openssf.org
    stepsecurity.io socket.dev snyk.io aikido.dev safedep.io wiz.io datadoghq.com
    reversinglabs.com sonatype.com jfrog.com checkmarx.com phylum.io endorlabs.com semgrep.dev
    paloaltonetworks.com crowdstrike.com microsoft.com mandiant.com sentinelone.com
    bleepingcomputer.com therecord.media thehackernews.com theregister.com securityweek.com
    arstechnica.com darkreading.com virustotal.com dev.to medium.com wikipedia.org"""
)
_REFERENCE_PATH = re.compile(r"/(?:blog|news|posts?)/", re.IGNORECASE)
_GIT_HOSTS = frozenset({"github.com", "www.github.com", "gitlab.com", "bitbucket.org"})
# First path segments on GitHub that are not an owner.
_GITHUB_RESERVED = _set(
    """advisories orgs settings features marketplace sponsors topics collections apps login about
    security enterprise pricing search notifications explore customer-stories"""
)
# Repositories the malware itself creates (Shai-Hulud 2025-09; nx s1ngularity 2025-08).
_KNOWN_EXFIL_REPOS = re.compile(r"shai-hulud|s1ngularity-repository(?:-\d+)?", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ftps": 990, "ws": 80, "wss": 443}

_INTERPRETERS = _set(
    """node nodejs bun deno npm npx yarn pnpm sh bash zsh dash cmd cmd.exe powershell
    powershell.exe pwsh python python3 perl ruby curl wget git sudo start env cd echo cat rm
    chmod ls gh java"""
)
_NOT_TOOLS = frozenset({"GitHub", "GitLab", "JavaScript", "TypeScript", "PowerShell", "LinkedIn"})
_RUN_VERBS = _set(
    """run runs ran running execute executes executed executing launch launches launched
    launching spawn spawns spawned spawning"""
)
_REPO_WORDS = frozenset({"repo", "repos", "repository", "repositories"})
_VERSION_WORDS = frozenset({"version", "versions", "v", "ver", "release", "releases", "build"})

# --- tokenising ---------------------------------------------------------------------------

# A line's units: a code span, a double-quoted phrase, or a word. Each alternative is a plain
# character class, so the scan is linear (an unclosed backtick only runs to the line's end once).
_UNIT = re.compile(r"`([^`\n]*)`|[\"“]([^\"“”\n]{1,200})[\"”]|([^\s|<>\"“”'‘’`]+)")
_WORD = re.compile(r"[^\s|<>\"“”'‘’`]+")
_SCHEME = re.compile(r"\b(?:https?|ftps?|wss?)://", re.IGNORECASE)
# What every host, URL, path, file name, address and name@version holds, defanged or not.
_MAYBE = re.compile(r"[.:@/\\]|dot|at[\])}]", re.IGNORECASE)
_SPLIT = re.compile(r"[\[\](){},;=]+")
_ALNUM = re.compile(r"[0-9A-Za-z]+")
_HEX = re.compile(r"[0-9a-fA-F]+")
_HOSTPORT = re.compile(r"([A-Za-z0-9.-]+)(?::(\d{1,5}))?(/\S*)?")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_CAMEL = re.compile(r"[a-z][A-Z]")
_PACKAGE_VERSION = re.compile(
    r"((?:@[A-Za-z0-9][\w.~-]*/)?[A-Za-z0-9_][\w.~-]*)@(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?"
    r"(?:\+[0-9A-Za-z.-]+)?)"
)
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9._%+-]{1,64}")
_ROOTED = re.compile(
    r"~/|\$\{?(?:HOME|TMPDIR|TMP|TEMP|XDG_\w+)\}?[/\\]|%\w+%[\\/]|[A-Za-z]:\\|"
    r"/(?:tmp|var|etc|usr|opt|Library|Users|home|private|root|Applications|System|dev/shm)/"
)
# An advisory record's own file (osv/malicious/npm/x/MAL-2025-6022.json) is a citation.
_ADVISORY_FILE = re.compile(r"(?:MAL|GHSA|CVE|OSV|PYSEC|GO|RUSTSEC)-[\w-]+\.json", re.IGNORECASE)
_PATH_CHARS = re.compile(r"[\w.$%~*+:@{}\\/-]+")
_SOURCE_HEADING = re.compile(r"\s*#{1,6}\s*source\s*:", re.IGNORECASE)
_CITATION = re.compile(r"\[(?:[PCS](?:-ish)?(?:/[PCS])?|(?i:sources?|via|ref))\b")
_PROCESS_NAME = re.compile(r"[A-Za-z][\w.-]{1,63}")
_REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_CAMEL_TOOL = re.compile(r"[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*|[A-Z]{2,}[a-z][A-Za-z0-9]*")
_LEADING = "*_>#:+!"  # not "~": ~/.config is a path
_TRAILING = ".,;:!?*_~…"


@dataclass(frozen=True)
class _Hit:
    ioc_type: str
    value: str
    port: int | None = None


def ioc_id(ioc_type: str, value: str) -> str:
    """A short stable id for an indicator: the first 16 hex digits of SHA-256(type NUL value)."""
    return hashlib.sha256(f"{ioc_type}\0{value}".encode()).hexdigest()[:16]


class _Rows:
    """Rows of one call, deduplicated on (type, value, port) in order of first appearance."""

    def __init__(self, *, advisory_id: str, confidence: str, source: str, evidence: str) -> None:
        self._common = {
            "advisory_id": advisory_id,
            "confidence": confidence,
            "source": source,
            "evidence": evidence,
        }
        self._rows: list[dict[str, Any]] = []
        self._by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def add(self, hit: _Hit, context: Callable[[], str]) -> None:
        """Add ``hit`` unless it is already there; ``context`` is computed only for a new row."""
        key = (hit.ioc_type, hit.value)
        same = self._by_key.setdefault(key, [])
        if hit.port is None:
            if same:
                return
        elif any(r["port"] == hit.port for r in same):
            return
        else:
            bare = next((r for r in same if r["port"] is None), None)
            if bare is not None:  # the same indicator, now with its port: one row says both
                bare["port"] = hit.port
                return
        row = {
            "ioc_id": ioc_id(hit.ioc_type, hit.value),
            "ioc_type": hit.ioc_type,
            "value": hit.value,
            "port": hit.port,
            "context": context(),
            **self._common,
        }
        same.append(row)
        self._rows.append(row)

    def frame(self) -> pd.DataFrame:
        return new_frame("iocs", self._rows)


# --- hosts, IPs, URLs ---------------------------------------------------------------------


def _is_domain(host: str, *, original: str = "") -> bool:
    """``host`` (lower case) is a syntactically valid name under a real ICANN TLD."""
    labels = host.split(".")
    if len(labels) < 2 or len(host) > 253:
        return False
    if not all(len(label) <= 63 and _LABEL.fullmatch(label) for label in labels):
        return False
    if labels[-1].isdigit():
        return False
    if original and _CAMEL.search(original):  # XMLHttpRequest.prototype, Keypair.fromSeed
        return False
    if len(labels) == 2 and labels[0] in _CODE_OBJECTS:
        return False
    return _psl().publicsuffix(host, accept_unknown=False) is not None


def _is_reference_host(host: str) -> bool:
    if host in _REFERENCE_HOSTS:
        return True
    registrable = _psl().privatesuffix(host, accept_unknown=False)
    return registrable in _REFERENCE_DOMAINS


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.is_unspecified or address.is_loopback:
        return None
    if isinstance(address, ipaddress.IPv4Address) and str(address) == "255.255.255.255":
        return None
    return address


def _clear_ipv6(text: str) -> bool:
    """An IPv6 literal that is clearly an address, not ``dead::beef`` prose or a time."""
    if "::" in text:
        groups = [g for g in text.split(":") if g]
        enough = len(groups) >= 2
    else:
        enough = text.count(":") == 7
    return enough and any(ch.isdigit() for ch in text) and _ip(text) is not None


def _github_repo(path: str) -> tuple[str, str, list[str]] | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2 or parts[0].lower() in _GITHUB_RESERVED:
        return None
    repo = parts[1][:-4] if parts[1].endswith(".git") else parts[1]
    if not _REPO_NAME.fullmatch(parts[0]) or not _REPO_NAME.fullmatch(repo):
        return None
    return parts[0], repo, parts[2:]


def _virustotal_hash(host: str, url: str) -> _Hit | None:
    if _psl().privatesuffix(host, accept_unknown=False) != "virustotal.com":
        return None
    match = re.search(r"/file/([0-9a-fA-F]{64}|[0-9a-fA-F]{40})(?![0-9a-fA-F])", url)
    if not match:
        return None
    digest = match.group(1).lower()
    return _Hit("sha256" if len(digest) == 64 else "sha1", digest)


def _port_or_default(explicit: int | None, scheme: str) -> int | None:
    return explicit if explicit is not None else _DEFAULT_PORTS.get(scheme)


def _normal_url(
    url: str,
) -> (
    tuple[str, str, str, int | None, ipaddress.IPv4Address | ipaddress.IPv6Address | None, str]
    | None
):
    """(value, scheme, host, explicit port, IP, path) of a URL whose host is real, else None.

    The value keeps everything but lower-cases the scheme and host.
    """
    if len(url) > _MAX_URL:
        return None
    try:
        parts = urlsplit(url)
        explicit = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    address = _ip(host)
    if address is None and not _is_domain(host):
        return None
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    userinfo = netloc.rpartition("@")[0] + "@" if "@" in netloc else ""
    shown_host = f"[{host}]" if isinstance(address, ipaddress.IPv6Address) else host
    value = f"{scheme}://{userinfo}{shown_host}"
    if explicit is not None:
        value += f":{explicit}"
    value += parts.path
    if parts.query:
        value += f"?{parts.query}"
    if parts.fragment:
        value += f"#{parts.fragment}"
    return value, scheme, host, explicit, address, parts.path


class _Scan:
    """Classifies the words of one text; remembers the repository names it says are created."""

    def __init__(self, packages: Iterable[str] = ()) -> None:
        self.packages = {p.lower() for p in packages}
        self.named_repos: set[str] = set()

    def _malicious_repo(self, name: str) -> bool:
        return name.lower() in self.named_repos or bool(_KNOWN_EXFIL_REPOS.fullmatch(name))

    # URLs ------------------------------------------------------------------------------

    def url(self, url: str, *, citation: bool = False) -> list[_Hit]:
        normal = _normal_url(url)
        if normal is None:
            return []
        value, scheme, host, explicit, address, path = normal
        if host in _GIT_HOSTS:
            repo = _github_repo(path)
            if repo and self._malicious_repo(repo[1]):
                return [_Hit("repository", f"{host.removeprefix('www.')}/{repo[0]}/{repo[1]}")]
            rest = repo[2] if repo else []
            downloads = rest[:2] == ["releases", "download"] or rest[:1] == ["raw"]
            if not downloads or citation:
                return [_Hit("reference", value)]
            return [_Hit("url", value, _port_or_default(explicit, scheme))]
        if citation or _is_reference_host(host) or _REFERENCE_PATH.search(path):
            hits = [_Hit("reference", value)]
            sample = _virustotal_hash(host, url)
            return [*hits, sample] if sample and not citation else hits
        host_type = "ip" if address is not None else "domain"
        return [
            _Hit("url", value, _port_or_default(explicit, scheme)),
            _Hit(host_type, str(address) if address is not None else host, explicit),
        ]

    # other tokens ----------------------------------------------------------------------

    def piece(
        self, piece: str, *, prev: list[str], no_hash: bool, truncated: bool = False
    ) -> list[_Hit]:
        """What one token (no spaces, no URL scheme, markup stripped) is an indicator of."""
        hits: list[_Hit] = []
        whole = False
        for run in _ALNUM.finditer(piece):
            digest = _digest_or_wallet(run.group(), prev=prev, no_hash=no_hash)
            if digest is not None:
                hits.append(digest)
                whole = whole or run.group() == piece
        if whole or len(piece) > _MAX_TOKEN:
            return hits
        if "@" in piece:
            return hits + self._at_token(piece)
        if piece.count(":") >= 2 and _clear_ipv6(piece):
            return [*hits, _Hit("ip", str(_ip(piece)))]
        hostport = _HOSTPORT.fullmatch(piece)
        if hostport:
            host_hits = self._hostport(piece, hostport, prev=prev, truncated=truncated)
            if host_hits is not None:
                return hits + host_hits
        file_hit = self._file(piece)
        return [*hits, file_hit] if file_hit else hits

    def _at_token(self, piece: str) -> list[_Hit]:
        match = _PACKAGE_VERSION.fullmatch(piece)
        if match:
            try:
                parse_version(match.group(2))
            except InvalidVersion:
                return []
            return [_Hit("package_version", piece)]
        local, _, domain = piece.rpartition("@")
        domain = domain.lower()
        if local and _EMAIL_LOCAL.fullmatch(local) and _is_domain(domain):
            return [_Hit("email", f"{local}@{domain}")]
        return []

    def _hostport(
        self, piece: str, match: re.Match[str], *, prev: list[str], truncated: bool
    ) -> list[_Hit] | None:
        """Hits for ``host[:port][/path]``, or None when the host is not one (maybe a file)."""
        raw_host, raw_port, path = match.group(1), match.group(2), match.group(3) or ""
        port = int(raw_port) if raw_port else None
        if port is not None and not 0 < port < 65536:
            return []
        truncated = truncated or "…" in path or "..." in path
        host = raw_host.strip("[]").lower().rstrip(".")
        if re.fullmatch(r"\d+(?:\.\d+){3}", host):
            if prev and prev[-1] in _VERSION_WORDS:  # "version 1.2.3.4" is a version
                return []
            address = _ip(host)
            if address is None:
                return []
            cidr = re.fullmatch(r"/(\d{1,2})", path)
            if cidr and int(cidr.group(1)) <= 32:
                return [_Hit("ip", f"{address}/{cidr.group(1)}")]
            hits = [_Hit("ip", str(address), port)]
            if path not in ("", "/") and not truncated:
                hits.insert(
                    0, _Hit("url", f"{host}{':' + raw_port if raw_port else ''}{path}", port)
                )
            return hits
        labels = host.split(".")
        if labels[-1] in _NOT_HOST_EXTS and not path and port is None:
            return None
        lowered = piece.lower()
        if lowered in self.packages or lowered in _PRODUCT_NAMES:
            return []
        if not _is_domain(host, original=raw_host):
            return None
        if host in _GIT_HOSTS:
            repo = _github_repo(path)
            if repo and (not repo[2] or self._malicious_repo(repo[1])):
                return [_Hit("repository", f"{host.removeprefix('www.')}/{repo[0]}/{repo[1]}")]
            return [_Hit("reference", f"{host}{path}")]
        if _is_reference_host(host) or _REFERENCE_PATH.search(path):
            return [_Hit("reference", f"{host}{':' + raw_port if raw_port else ''}{path}")]
        hits = [_Hit("domain", host, port)]
        if path not in ("", "/") and not truncated:
            hits.insert(0, _Hit("url", f"{host}{':' + raw_port if raw_port else ''}{path}", port))
        return hits

    def _file(self, piece: str) -> _Hit | None:
        if len(piece) > 512 or not _PATH_CHARS.fullmatch(piece):
            return None
        lowered = piece.lower()
        if lowered in self.packages or lowered in _PRODUCT_NAMES:
            return None
        base = re.split(r"[/\\]", piece)[-1]
        if base.lower() in _COMMON_FILES or _ADVISORY_FILE.fullmatch(base):
            return None
        if _ROOTED.match(piece):
            return _Hit("file_name", piece)
        if base.startswith("-") or piece.startswith("@"):
            return None
        ext = _extension(base)
        if ext is None:
            return None
        stem = base[: -len(ext) - 1]
        if not re.search(r"[A-Za-z0-9]", stem) or stem.endswith("."):
            return None
        return _Hit("file_name", piece)


def _extension(base: str) -> str | None:
    lowered = base.lower()
    for double in ("tar.gz", "tar.xz", "tar.bz2"):
        if lowered.endswith("." + double):
            return double
    if "." not in lowered:
        return None
    ext = lowered.rsplit(".", 1)[1]
    return ext if ext in _FILE_EXTS else None


# --- hashes and wallets -------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _b58decode(text: str) -> bytes | None:
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            return None
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + body


def _b58check(text: str, versions: tuple[int, ...]) -> bool:
    raw = _b58decode(text)
    if raw is None or len(raw) != 25 or raw[0] not in versions:
        return False
    digest = hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()
    return digest[:4] == raw[-4:]


def _bech32_valid(text: str) -> bool:
    lowered = text.lower()
    if text not in (lowered, text.upper()):
        return False
    hrp, _, data = lowered.rpartition("1")
    if hrp not in ("bc", "tb") or len(data) < 7 or any(c not in _BECH32 for c in data):
        return False
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    values += [_BECH32.index(c) for c in data]
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= gen if (top >> i) & 1 else 0
    return chk in (1, 0x2BC830A3)  # bech32, bech32m


def _digest_or_wallet(run: str, *, prev: list[str], no_hash: bool) -> _Hit | None:
    """A hash or wallet address, for one maximal run of letters and digits."""
    size = len(run)
    if size in (40, 64) and _HEX.fullmatch(run):
        if no_hash or (size == 40 and any(w in ("commit", "commits") for w in prev[-2:])):
            return None
        return _Hit("sha256" if size == 64 else "sha1", run.lower())
    if size == 42 and run[:2] in ("0x", "0X") and _HEX.fullmatch(run[2:]):
        return _Hit("wallet", "0x" + run[2:].lower())
    if run[:3].lower() in ("bc1", "tb1") and 14 <= size <= 90 and _bech32_valid(run):
        return _Hit("wallet", run.lower())
    if 26 <= size <= 35 and run[0] in "13" and _b58check(run, (0x00, 0x05)):
        return _Hit("wallet", run)
    if size == 34 and run[0] == "T" and _b58check(run, (0x41,)):
        return _Hit("wallet", run)
    if size == 95 and run[0] in "48" and all(c in _B58_INDEX for c in run):
        return _Hit("wallet", run)  # Monero: its own base58 blocks and Keccak, not checked
    return None


def _solana(run: str) -> bool:
    raw = _b58decode(run) if 32 <= len(run) <= 44 else None
    return raw is not None and len(raw) == 32


# --- lines --------------------------------------------------------------------------------


@dataclass
class _Unit:
    kind: str  # code | quote | word
    text: str
    start: int
    end: int


def _units(line: str) -> list[_Unit]:
    units = []
    for m in _UNIT.finditer(line):
        if m.group(1) is not None:
            units.append(_Unit("code", m.group(1), m.start(1), m.end(1)))
        elif m.group(2) is not None:
            units.append(_Unit("quote", m.group(2), m.start(2), m.end(2)))
        else:
            units.append(_Unit("word", m.group(3), m.start(3), m.end(3)))
    return units


def _bare(word: str) -> str:
    return word.strip(_LEADING + _TRAILING + "()[]{}\"'").lower()


def _citation_spans(line: str) -> list[tuple[int, int]]:
    """Where ``[S: …]``-style citations sit in ``line``: sorted, merged, non-overlapping."""
    spans: list[tuple[int, int]] = []
    for m in _CITATION.finditer(line):
        end = line.find("]", m.end(), m.end() + 400)
        if end == -1:
            continue
        if spans and m.start() < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end + 1))
        else:
            spans.append((m.start(), end + 1))
    return spans


def _inside(spans: list[tuple[int, int]], starts: list[int], position: int) -> bool:
    i = bisect.bisect_right(starts, position) - 1
    return i >= 0 and position < spans[i][1]


def _is_bare_line(line: str) -> bool:
    """A list item or table cell holding little more than an indicator."""
    if len(line) > 300:
        return False
    text = re.sub(r"`[^`]*`|[0-9A-Za-z]{20,}|\S+\.\S+", "", line)
    return len(re.findall(r"[A-Za-z]", text)) < 4


def _context(lines: list[str], index: int, start: int, end: int) -> str:
    line = lines[index]
    if len(line) > 300:
        left = max(0, start - 120)
        text = ("…" if left else "") + line[left : end + 120].strip()
        return text + ("…" if end + 120 < len(line) else "")
    text = line.strip()
    if _is_bare_line(line):
        # say what the listed hash or host is: the line that introduces the list
        for back in range(index - 1, max(-1, index - 30), -1):
            lead = lines[back].strip()
            if not lead or lead.startswith("#"):
                break
            if not _is_bare_line(lead):
                return f"{lead[:200]} … {text}"
    return text


def _named_after(units: list[_Unit], i: int) -> str | None:
    """The name in ``named `X```/``called "X"``/``named X`` starting at units[i+1]."""
    if i + 1 >= len(units):
        return None
    unit = units[i + 1]
    name = unit.text.strip() if unit.kind != "word" else unit.text.strip(_TRAILING + "()[]")
    return name or None


def _repos_named(units: list[_Unit]) -> Iterator[tuple[str, _Unit]]:
    seen_repo_at = -100
    for i, unit in enumerate(units):
        word = _bare(unit.text) if unit.kind == "word" else ""
        if word in _REPO_WORDS:
            seen_repo_at = i
        elif word in ("named", "called") and i - seen_repo_at <= 12:
            name = _named_after(units, i)
            if name and _REPO_NAME.fullmatch(name) and not name.startswith("."):
                yield name, units[i + 1]


def _processes(units: list[_Unit]) -> Iterator[tuple[str, _Unit]]:
    for i, unit in enumerate(units):
        if unit.kind != "word":
            continue
        word = _bare(unit.text)
        if word in ("process", "processes"):
            j = i + 1
            said = False
            while (
                j < len(units)
                and j <= i + 2
                and _bare(units[j].text) in ("named", "called", "name", "names", ":")
            ):
                said, j = True, j + 1
            if j < len(units) and (units[j].kind != "word" or said):
                name = units[j].text.split()[0] if units[j].text.split() else ""
                name = name.strip(_TRAILING + "()[]")
                if _PROCESS_NAME.fullmatch(name) and name.lower() not in _INTERPRETERS:
                    yield name, units[j]
        elif word in _RUN_VERBS and not (
            i + 1 < len(units) and _bare(units[i + 1].text) in ("key", "keys")
        ):  # a Windows "Run key" names a registry value, not a process
            for j in range(i + 1, min(len(units), i + 4)):
                nxt = units[j]
                if nxt.kind == "code":
                    first = nxt.text.split()[0] if nxt.text.split() else ""
                    ext = _extension(first)
                    if (
                        ext in (None, "exe")
                        and _PROCESS_NAME.fullmatch(first)
                        and first.lower() not in _INTERPRETERS
                    ):
                        yield first, nxt
                    break
                text = nxt.text.rstrip(_TRAILING)
                if _CAMEL_TOOL.fullmatch(text) and text not in _NOT_TOOLS:
                    yield text, nxt
                    break
                if not nxt.text.isalpha() or not nxt.text.islower():
                    break  # only articles and adjectives may stand between verb and name


def _words(unit: _Unit) -> Iterator[tuple[str, int, int]]:
    if unit.kind == "word":
        yield unit.text, unit.start, unit.end
        return
    for m in _WORD.finditer(unit.text):
        yield m.group(), unit.start + m.start(), unit.start + m.end()


def _elided(text: str) -> bool:
    """``text`` ends in an ellipsis: what it shows is cut short (``webhook.site/bb8ca5f6-…``)."""
    return text.rstrip(")]}'\"*_,;:!?").endswith(("…", ".."))


def _url_cut(candidate: str) -> str:
    """The URL at the start of ``candidate``: up to markdown's ``]``, minus trailing punctuation."""
    if len(candidate) > _MAX_URL:
        return candidate  # no URL is this long; the caller rejects it whole
    search_from = 0
    marker = candidate.find("://[")
    if marker != -1 and marker < 8:
        search_from = candidate.find("]", marker) + 1
    bracket = candidate.find("]", search_from)
    if bracket > 0:
        candidate = candidate[:bracket]
    opens = candidate.count("(")
    closes = candidate.count(")")
    while candidate:
        if candidate[-1] == ")" and closes > opens:
            candidate, closes = candidate[:-1], closes - 1
        elif candidate[-1] in _TRAILING + "'\"":
            candidate = candidate[:-1]
        else:
            break
    return candidate


def _word_hits(
    scan: _Scan, word: str, *, prev: list[str], no_hash: bool, citation: bool
) -> list[_Hit]:
    if not _MAYBE.search(word):  # no host, URL, path, file, address: only a hash or wallet
        if len(word) < 26 or citation:
            return []
        runs = (
            _digest_or_wallet(r.group(), prev=prev, no_hash=no_hash) for r in _ALNUM.finditer(word)
        )
        return [hit for hit in runs if hit is not None]
    word = refang(_MD_ESCAPE.sub(r"\1", word))
    hits: list[_Hit] = []
    rest: list[str] = []
    starts = [m.start() for m in _SCHEME.finditer(word)]
    position = 0
    for k, start in enumerate(starts):
        if start < position:
            continue
        rest.append(word[position:start])
        stop = starts[k + 1] if k + 1 < len(starts) else len(word)
        url = _url_cut(word[start:stop])
        found = scan.url(url, citation=citation)
        if _elided(word[start:stop]):  # "https://evil.example/abc…": only the host is known
            found = [h for h in found if h.ioc_type in ("domain", "ip", "reference")]
        hits += found
        position = start + len(url)
    rest.append(word[position:])
    for chunk in rest:
        for raw in _SPLIT.split(chunk):
            piece = raw.lstrip(_LEADING).rstrip(_TRAILING + "'\"")
            piece = piece[2:] if piece.startswith("~~") else piece  # strikethrough
            if piece:
                hits += scan.piece(piece, prev=prev, no_hash=no_hash, truncated=_elided(raw))
    if citation:  # a source being cited: keep it as a reference, nothing else
        return [
            _Hit("reference", h.value) if h.ioc_type in ("domain", "url") else h
            for h in hits
            if h.ioc_type in ("domain", "url", "reference")
        ]
    return hits


Found = tuple[_Hit, Callable[[], str]]


def _table_cells(line: str) -> list[int]:
    """Offsets of the ``|`` separators of a markdown table row (empty when it is not one)."""
    if not line.lstrip().startswith("|"):
        return []
    return [i for i, ch in enumerate(line) if ch == "|"]


def _scan_text(text: str, scan: _Scan) -> Iterator[Found]:
    """Every indicator in ``text`` with a function giving its context (built only when kept)."""
    lines = [_SPACED_DEFANG.sub(r"[\1]", line) for line in text.splitlines()]
    parsed = [_units(line) for line in lines]
    for units in parsed:  # the names the text says the malware gives its repositories
        scan.named_repos.update(name.lower() for name, _ in _repos_named(units))

    def where(index: int, start: int, end: int) -> Callable[[], str]:
        return lambda: _context(lines, index, start, end)

    commit_columns: set[int] = set()  # table columns headed "commit": git shas, not file hashes
    for index, (line, units) in enumerate(zip(lines, parsed, strict=True)):
        if not units:
            continue
        bars = _table_cells(line)
        if not bars:
            commit_columns = set()
        elif index == 0 or not _table_cells(lines[index - 1]):
            cells = [line[a + 1 : b].lower() for a, b in itertools.pairwise(bars)]
            commit_columns = {i for i, cell in enumerate(cells) if "commit" in cell}
        spans = _citation_spans(line)
        starts = [a for a, _ in spans]
        no_hash = bool(_SOURCE_HEADING.match(line))
        solana = "solana" in line.lower()
        processes = [
            (name, unit)
            for name, unit in _processes(units)
            if not _inside(spans, starts, unit.start)
        ]
        run_names = {name.lower() for name, _ in processes}
        prev: list[str] = []
        for unit in units:
            column = bisect.bisect_right(bars, unit.start) - 1
            in_commits = column in commit_columns
            for word, start, end in _words(unit):
                cited = _inside(spans, starts, start)
                found = _word_hits(
                    scan, word, prev=prev, no_hash=no_hash or in_commits, citation=cited
                )
                for hit in found:
                    if hit.ioc_type == "file_name" and hit.value.lower() in run_names:
                        continue  # `regsvr32.exe -s x.dll`: a process being run, not a file
                    yield hit, where(index, start, end)
                if solana and not cited:
                    for run in _ALNUM.finditer(word):
                        key = run.group()
                        if _solana(key) and not _digest_or_wallet(key, prev=prev, no_hash=True):
                            yield _Hit("wallet", key), where(index, start, end)
                prev.append(_bare(word))
        for name, unit in _repos_named(units):
            yield _Hit("repository", name), where(index, unit.start, unit.end)
        for name, unit in processes:
            yield _Hit("process", name), where(index, unit.start, unit.end)


def extract_iocs(
    text: str,
    *,
    advisory_id: str,
    source: str,
    evidence: str,
    packages: Iterable[str] = (),
) -> pd.DataFrame:
    """Indicators of compromise found in advisory prose or markdown (confidence ``extracted``).

    Parameters
    ----------
    text
        An advisory's ``summary``/``details``, a Threat Center incident's markdown ``details``,
        or any note an analyst pastes. Defanged forms are re-fanged.
    advisory_id, source, evidence
        Copied to every row: the advisory the text belongs to, the loader that read it, and the
        file path or URL it was read from.
    packages
        Names of the packages the advisory is about; a token equal to one (``timeago.js``) is not
        read as a file name or a host.

    Returns
    -------
    pandas.DataFrame
        The ``iocs`` schema: ``ioc_id``, ``advisory_id``, ``ioc_type`` (domain | ip | url |
        sha256 | sha1 | file_name | process | repository | package_version | wallet | email |
        reference), ``value`` (re-fanged, hosts lower-cased), ``context`` (the line it was found
        in), ``confidence``, ``source``, ``evidence`` (string) and ``port`` (Int64, NA unless a
        port applies). One row per distinct (``ioc_type``, ``value``, ``port``).
    """
    rows = _Rows(advisory_id=advisory_id, confidence="extracted", source=source, evidence=evidence)
    for hit, context in _scan_text(text, _Scan(packages)):
        rows.add(hit, context)
    frame = rows.frame()
    # a host cited in one place and named as an indicator in another is an indicator
    indicators = set(frame.loc[frame["ioc_type"] != "reference", "value"])
    cited_too = (frame["ioc_type"] == "reference") & frame["value"].isin(indicators)
    return frame[~cited_too].reset_index(drop=True)


# --- structured fields --------------------------------------------------------------------


def _aliases(table: dict[str, str]) -> dict[str, str]:
    return {alias: kind for aliases, kind in table.items() for alias in aliases.split()}


# Keys (of OSV ``database_specific`` objects, incident files, analyst mappings) and their types.
_KEY_TYPES = _aliases(
    {
        "domain domains host hosts hostname hostnames c2": "domain",
        "ip ips ipv4 ipv6 ip_address ip_addresses": "ip",
        "url urls": "url",
        "sha256 sha-256 sha256s": "sha256",
        "sha1 sha-1 sha1s": "sha1",
        "md5 md5s": "md5",
        "tlsh": "tlsh",
        "sha512_sri integrity": "integrity",
        "hash hashes": "hash",
        "file files file_name file_names filename filenames path paths": "file_name",
        "evidence_files package_integrity": "file_name",
        "process processes": "process",
        "repo repos repository repositories": "repository",
        "package packages package_version package_versions": "package_version",
        "wallet wallets address addresses": "wallet",
        "email emails": "email",
        "reference references": "reference",
    }
)
# Where OSV records and incident files keep indicators (see the module notes on what was seen).
_CONTAINERS = frozenset({"iocs", "indicators", "ioc", "indicators_of_compromise"})
# Words next to indicators in the same object: they describe, they are not indicators.
_META_KEYS = _set(
    """note notes source sources description comment comments confidence first_seen last_seen
    context type ioc_type value name label port ports"""
)
# Keys that make an object one file's entry (``{path, sha256}``, ``{filename, hashes}``).
_FILE_KEYS = ("path", "paths", "filename", "file_name")
_HASH_SIZES = {32: "md5", 40: "sha1", 64: "sha256"}
_HASH_PREFIX = re.compile(r"(sha256|sha1|md5)[:=]", re.IGNORECASE)
_SRI = re.compile(r"sha(?:256|384|512)-[A-Za-z0-9+/]+={0,2}")


def _typed_value(ioc_type: str, raw: str) -> _Hit:
    """Normalise a value whose type a source or analyst stated."""
    text = refang(raw.strip())
    if ioc_type == "hash":
        prefix = _HASH_PREFIX.match(text)
        bare = text[prefix.end() :] if prefix else text
        if _SRI.fullmatch(text):
            return _Hit("integrity", text)
        if _HEX.fullmatch(bare) and len(bare) in _HASH_SIZES:
            return _Hit(_HASH_SIZES[len(bare)], bare.lower())
        return _Hit("hash", text)
    if ioc_type in ("sha256", "sha1", "md5", "tlsh"):
        prefix = _HASH_PREFIX.match(text)
        return _Hit(ioc_type, (text[prefix.end() :] if prefix else text).lower())
    if ioc_type == "url":
        normal = _normal_url(text)
        if normal is None:
            return _Hit("url", text)
        return _Hit("url", normal[0], _port_or_default(normal[3], normal[1]))
    if ioc_type in ("domain", "ip"):
        host, port = text, None
        match = re.fullmatch(r"\[?([^\[\]]+?)\]?:(\d{1,5})", text)
        if match and (text.startswith("[") or match.group(1).count(":") == 0):
            host, port = match.group(1), int(match.group(2))
        host = host.strip("[]").rstrip(".").lower()
        address = _ip(host) if ioc_type == "ip" else None
        return _Hit(ioc_type, str(address) if address is not None else host, port)
    if ioc_type == "wallet" and text[:2] in ("0x", "0X"):
        return _Hit("wallet", text.lower())
    return _Hit(ioc_type, text)


def _const(text: str) -> Callable[[], str]:
    return lambda: text


class _Structured:
    """Walks the indicator objects of a record into rows, typing values by their keys."""

    def __init__(self, rows: _Rows) -> None:
        self.rows = rows

    def emit(self, ioc_type: str | None, value: Any, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return
        text = str(value).strip()
        if not text:
            return
        if ioc_type is not None:
            self.rows.add(_typed_value(ioc_type, text), _const(where))
            return
        # under a key we do not know: read it like text, and keep it even when nothing is read
        found = [hit for hit, _ in _scan_text(text, _Scan())]
        for hit in found or [_Hit("other", text)]:
            self.rows.add(hit, _const(where))

    def walk(self, value: Any, where: str, ioc_type: str | None, about: str = "") -> None:
        """Rows for ``value`` found at field path ``where``; ``about`` names the file it describes."""
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.walk(item, f"{where}[{i}]", ioc_type, about)
        elif isinstance(value, Mapping):
            stated = value.get("type", value.get("ioc_type"))
            if "value" in value and isinstance(stated, str):
                self.emit(_KEY_TYPES.get(stated.strip().lower()), value["value"], where + about)
            elif ioc_type == "file_name" or any(k in value for k in _FILE_KEYS):
                self.file_entry(value, where)
            else:
                for key, item in value.items():
                    lowered = str(key).lower()
                    if lowered not in _META_KEYS:
                        kind = _KEY_TYPES.get(lowered, ioc_type)
                        self.walk(item, f"{where}.{key}", kind, about)
        else:
            self.emit(ioc_type, value, where + about)

    def file_entry(self, entry: Mapping[str, Any], where: str) -> None:
        """``{path, sha256, tlsh}``, ``{filename, hashes{sha1, sha512_sri}}``, ``{paths[], note}``."""
        names: list[str] = []
        for key in (*_FILE_KEYS, "file", "name"):
            found = entry.get(key)
            for name in [found] if isinstance(found, str) else found or []:
                if isinstance(name, str) and name.strip():
                    names.append(name.strip())
        about = f" ({', '.join(names)})" if names else ""
        note = entry.get("note") or entry.get("description")
        if isinstance(note, str) and note.strip():
            about += f": {note.strip()[:200]}"
        for name in names:
            self.emit("file_name", name, where + about)
        for key, item in entry.items():
            lowered = str(key).lower()
            if lowered not in _META_KEYS and lowered not in (*_FILE_KEYS, "file"):
                self.walk(item, f"{where}.{key}", _KEY_TYPES.get(lowered, "other"), about)


def structured_iocs(
    record: Mapping[str, Any], *, advisory_id: str, source: str, evidence: str
) -> pd.DataFrame:
    """Indicators an OSV-shaped record states in fields (confidence ``structured``).

    Read, when present:

    - ``database_specific.iocs`` = ``{domains[], ips[], urls[], files[{paths[], note, source}],
      sha256[]…}`` (real in ``MAL-2026-2307``, axios) and ``database_specific.indicators``;
      typed lists directly under ``database_specific`` (``domains``, ``ips``, ``urls``,
      ``hashes``, …).
    - ``affected[].database_specific.indicators`` = ``{evidence_files[{path, sha256, tlsh}],
      package_integrity[{filename, hashes{sha1, sha512_sri}}]}`` (real in ``MAL-2026-3744``,
      node-ipc): file names, their hashes, TLSH and the tarball's SRI ``integrity``.
    - ``references[]`` (objects with ``url``, or plain strings as GitHub's REST API gives them):
      ``reference`` rows, plus the sample's hash from a VirusTotal file link
      (``GHSA-73qr-pfmq-6rp8``).

    Never read: ``malicious-packages-origins[].sha256`` (the digest of each feed's report, not of
    anything malicious), CWE lists, severities. A value under a key this module does not know,
    inside an indicator object, is read like text, and kept as ``other`` when nothing in it is
    recognised. Values are re-fanged and normalised like extracted ones; a value that does not
    parse as its stated type is kept as the source gave it.

    Parameters
    ----------
    record
        One OSV record (MAL-/GHSA- JSON), or any mapping of that shape.
    advisory_id, source, evidence
        Copied to every row.

    Returns
    -------
    pandas.DataFrame
        The ``iocs`` schema (see :func:`extract_iocs`); ``context`` is the field path, e.g.
        ``affected[0].database_specific.indicators.evidence_files[0] (node-ipc.cjs)``.
    """
    rows = _Rows(advisory_id=advisory_id, confidence="structured", source=source, evidence=evidence)
    walker = _Structured(rows)
    specific = record.get("database_specific")
    if isinstance(specific, Mapping):
        for key, value in specific.items():
            lowered = str(key).lower()
            if lowered in _CONTAINERS:
                walker.walk(value, f"database_specific.{key}", None)
            elif lowered in _KEY_TYPES and _KEY_TYPES[lowered] != "reference":
                walker.walk(value, f"database_specific.{key}", _KEY_TYPES[lowered])
    affected = record.get("affected")
    for i, entry in enumerate(affected if isinstance(affected, list) else []):
        inner = entry.get("database_specific") if isinstance(entry, Mapping) else None
        for key, value in inner.items() if isinstance(inner, Mapping) else ():
            if str(key).lower() in _CONTAINERS:
                walker.walk(value, f"affected[{i}].database_specific.{key}", None)
    references = record.get("references")
    for i, reference in enumerate(references if isinstance(references, list) else []):
        url = reference.get("url") if isinstance(reference, Mapping) else reference
        if not isinstance(url, str) or not url.strip():
            continue
        url = url.strip()
        where = f"references[{i}]: {url}"
        rows.add(_Hit("reference", url), _const(where))
        normal = _normal_url(url)
        sample = _virustotal_hash(normal[2], url) if normal else None
        if sample is not None:
            rows.add(sample, _const(where))
    return rows.frame()


# --- the analyst --------------------------------------------------------------------------


def analyst_iocs(
    items: Iterable[str | Mapping[str, Any]],
    *,
    advisory_id: str,
    source: str = "incident",
    evidence: str = "",
) -> pd.DataFrame:
    """Indicators an analyst wrote in the incident spec (confidence ``analyst``).

    Parameters
    ----------
    items
        Each one ``"type:value"`` (``"domain:evil.example"``, ``"sha256:…"``, ``"ip:1.2.3.4"``),
        a bare value whose kind is recognised (``"https://evil.example/x"``, ``"bundle.js"``), or a
        mapping ``{type, value}`` with optional ``port`` and ``context``/``note``. Types: domain
        (also host, c2), ip, url, sha256, sha1, md5, hash (kind by length), file/file_name/path,
        process, repository/repo, package/package_version, wallet, email, integrity, tlsh,
        reference. The analyst's type is honoured (``domain:github.com`` stays a domain).
    advisory_id
        The advisory or incident the indicators belong to.
    source, evidence
        Copied to every row (the spec loader's name and the spec file's path).

    Returns
    -------
    pandas.DataFrame
        The ``iocs`` schema (see :func:`extract_iocs`); ``context`` is the item as written, or
        its ``context``/``note``.

    Raises
    ------
    ConfigError
        An item of an unknown type, without a value, malformed for its type (a hash of the wrong
        length, an IP that is not one, a URL without a scheme, a host name with spaces), or a
        bare value whose kind cannot be told.
    """
    rows = _Rows(advisory_id=advisory_id, confidence="analyst", source=source, evidence=evidence)
    for position, item in enumerate(items, start=1):
        hit, context = _analyst_item(item, f"indicator {position}")
        rows.add(hit, _const(context))
    return rows.frame()


def _analyst_item(item: str | Mapping[str, Any], where: str) -> tuple[_Hit, str]:
    if isinstance(item, Mapping):
        kind = item.get("type", item.get("ioc_type"))
        value = item.get("value")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: an indicator needs a non-empty 'value'")
        hit = _bare_value(value, where) if kind is None else _checked(str(kind), value, where)
        context = item.get("context") or item.get("note") or f"{kind}:{value}"
        port = item.get("port")
        if port is not None:
            if isinstance(port, bool) or not str(port).isdigit() or not 0 < int(port) < 65536:
                raise ConfigError(f"{where}: port {port!r} is not a TCP/UDP port")
            hit = _Hit(hit.ioc_type, hit.value, int(port))
        return hit, str(context)
    if not isinstance(item, str) or not item.strip():
        raise ConfigError(f"{where}: an indicator must be 'type:value' text or a mapping")
    text = item.strip()
    prefix, sep, rest = text.partition(":")
    if sep and prefix.strip().lower() in _KEY_TYPES:
        return _checked(prefix, rest, where), text
    return _bare_value(text, where), text


def _checked(kind: str, value: str, where: str) -> _Hit:
    ioc_type = _KEY_TYPES.get(kind.strip().lower())
    if ioc_type is None:
        raise ConfigError(f"{where}: unknown indicator type {kind!r}")
    if not value.strip():
        raise ConfigError(f"{where}: no value after the type {kind!r}")
    hit = _typed_value(ioc_type, value)
    wrong = ""
    if hit.ioc_type in _HASH_SIZES.values():
        size = next(n for n, name in _HASH_SIZES.items() if name == hit.ioc_type)
        if len(hit.value) != size or not _HEX.fullmatch(hit.value):
            wrong = f"not a {hit.ioc_type} ({size} hex digits)"
    elif hit.ioc_type == "hash":
        wrong = "not a hash of a known length (32, 40 or 64 hex digits, or sha512-… SRI)"
    elif hit.ioc_type == "ip" and _ip(hit.value.split("/")[0]) is None:
        wrong = "not an IP address"
    elif hit.ioc_type == "url" and _normal_url(hit.value) is None:
        wrong = "not a URL (scheme://host/…) with a real host"
    elif hit.ioc_type == "domain" and not all(_LABEL.fullmatch(p) for p in hit.value.split(".")):
        wrong = "not a host name"
    if wrong:
        raise ConfigError(f"{where}: {value.strip()!r} is {wrong}")
    return hit


def _bare_value(value: str, where: str) -> _Hit:
    """The one indicator an untyped analyst value is; a well-known host stays what it is."""
    found = [hit for hit, _ in _scan_text(value.strip(), _Scan())]
    if not found:
        raise ConfigError(
            f"{where}: cannot tell what kind of indicator {value!r} is; write it as type:value"
        )
    hit = found[0]
    if hit.ioc_type == "reference":  # the analyst listed it: they mean it as an indicator
        normal = _normal_url(hit.value)
        if normal is not None:
            return _Hit("url", normal[0], _port_or_default(normal[3], normal[1]))
        return _Hit("domain" if "/" not in hit.value else "url", hit.value)
    return hit
