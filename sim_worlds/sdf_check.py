"""Read an SDFormat world with a real parser and say what is in it (``smartgate world check``).

The parser is ``rod`` (PyPI, pure Python, SDFormat >= 1.7): it turns the file into typed
World/Model/Link objects. rod is lenient in one dangerous way: an element it cannot read (a
``<link>`` without a name, a malformed ``<pose>``) silently disappears from its result. So the
file is also walked once with expat, keeping line numbers, to check the rules rod relies on and
to report the exact line of a problem instead of a world that merely looks smaller. The same walk
lists what rod does not model: ``<plugin>`` systems, ``<light>`` s and ``<include>`` s.

Any failure raises :class:`WorldError` (a ``ValueError``) whose message starts with
``FILE[:LINE[:COL]]:``, so an operator can go straight to the problem.
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rod

NAMED = ("world", "model", "link", "joint", "visual", "collision", "light", "frame")


class WorldError(ValueError):
    """An SDF file that cannot be read as a world; the message says where and why."""


@dataclass(frozen=True)
class PluginInfo:
    filename: str
    name: str
    params: dict[str, list[str]]  # simple child elements: tag -> texts (repeats kept in order)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    static: bool
    links: int
    joints: int
    plugins: tuple[PluginInfo, ...]


@dataclass(frozen=True)
class WorldInfo:
    name: str
    models: tuple[ModelInfo, ...]
    lights: tuple[str, ...]
    plugins: tuple[PluginInfo, ...]
    includes: tuple[str, ...]  # URIs of <include>d models (resolved by Gazebo, not here)

    def model(self, name: str) -> ModelInfo:
        """The model called ``name`` (KeyError if absent)."""
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)


@dataclass(frozen=True)
class WorldReport:
    path: str
    sdf_version: str
    worlds: tuple[WorldInfo, ...]

    def lines(self, verbose: bool = False) -> list[str]:
        """Human-readable summary: one line per world, then one per model if ``verbose``."""
        out: list[str] = []
        for w in self.worlds:
            n_static = sum(m.static for m in w.models)
            out.append(
                f"{self.path}: SDF {self.sdf_version} world '{w.name}': {len(w.models)} models "
                f"({n_static} static), {len(w.lights)} lights, {len(w.plugins)} systems"
                + (f", {len(w.includes)} includes" if w.includes else "")
            )
            if verbose:
                for m in w.models:
                    kind = "static" if m.static else "dynamic"
                    plugins = ", ".join(p.name or p.filename for p in m.plugins)
                    out.append(
                        f"  model {m.name} ({kind}, {m.links} links, {m.joints} joints)"
                        + (f" plugins: {plugins}" if plugins else "")
                    )
                for uri in w.includes:
                    out.append(f"  include {uri}")
        return out


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)

    def all(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]

    def first(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)


def _scan(data: bytes) -> _Node:
    """Element tree with line numbers (expat; same XML rules as rod's xmltodict front end)."""
    parser = xml.parsers.expat.ParserCreate()
    root = _Node("", {}, 0)
    stack = [root]

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = _Node(tag, attrs, parser.CurrentLineNumber)
        stack[-1].children.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        node = stack.pop()
        node.text = node.text.strip()

    def chars(text: str) -> None:
        stack[-1].text += text

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(data, True)
    return root.children[0]


def _walk(node: _Node) -> list[_Node]:
    out = [node]
    for c in node.children:
        out.extend(_walk(c))
    return out


def _structure_problems(sdf: _Node) -> list[tuple[int, str]]:
    """Rules rod needs but does not report: names, poses, joint ends, duplicates."""
    problems: list[tuple[int, str]] = []
    for node in _walk(sdf):
        if node.tag in NAMED and not node.attrs.get("name"):
            problems.append((node.line, f"<{node.tag}> has no name attribute"))
        if node.tag == "plugin" and not node.attrs.get("filename"):
            problems.append((node.line, "<plugin> has no filename attribute"))
        if node.tag == "pose" and node.text:
            want = 7 if node.attrs.get("rotation_format") == "quat_xyzw" else 6
            parts = node.text.split(" ")
            try:
                ok = len(parts) == want and len([float(x) for x in parts]) == want
            except ValueError:
                ok = False
            if not ok:
                problems.append(
                    (
                        node.line,
                        f"<pose> '{node.text}' must be {want} numbers separated by single spaces",
                    )
                )
        if node.tag in ("world", "model"):
            seen: dict[str, int] = {}
            for child in node.children:
                if child.tag in ("model", "link", "joint") and child.attrs.get("name"):
                    key = f"{child.tag} '{child.attrs['name']}'"
                    if key in seen:
                        problems.append(
                            (child.line, f"duplicate {key} (first at line {seen[key]})")
                        )
                    seen.setdefault(key, child.line)
        if node.tag == "model":
            links = {c.attrs.get("name") for c in node.all("link")}
            frames = {c.attrs.get("name") for c in node.all("frame")}
            for j in node.all("joint"):
                if not j.attrs.get("type"):
                    problems.append((j.line, f"joint '{j.attrs.get('name')}' has no type"))
                for end in ("parent", "child"):
                    ref = j.first(end)
                    if ref is None or not ref.text:
                        problems.append((j.line, f"joint '{j.attrs.get('name')}' has no <{end}>"))
                    elif ref.text not in links | frames | {"world"} and "::" not in ref.text:
                        problems.append(
                            (
                                ref.line,
                                f"joint '{j.attrs.get('name')}' {end} '{ref.text}' is not a link "
                                f"of model '{node.attrs.get('name')}'",
                            )
                        )
    return sorted(problems)


def _plugin(node: _Node) -> PluginInfo:
    params: dict[str, list[str]] = {}
    for c in node.children:
        if not c.children:
            params.setdefault(c.tag, []).append(c.text)
    return PluginInfo(node.attrs.get("filename", ""), node.attrs.get("name", ""), params)


def _rod_error(p: Path, exc: Exception, data: bytes) -> WorldError:
    """Turn rod's exception (and its cause) into a message with file and position."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, xml.parsers.expat.ExpatError):
        what = xml.parsers.expat.ErrorString(cause.code)
        return WorldError(f"{p}:{cause.lineno}:{cause.offset + 1}: not well-formed XML: {what}")
    msg = str(exc)
    if isinstance(cause, KeyError) and "top-level" in msg:
        root = _scan(data)
        return WorldError(
            f"{p}:{root.line}: root element is <{root.tag}>, expected <sdf> (not an SDFormat file)"
        )
    if msg.startswith("Unsupported SDF version"):
        version = msg.rsplit(" ", 1)[-1]
        return WorldError(f"{p}: SDF version {version} is not supported (rod reads 1.7 or later)")
    if "version" in msg and "Sdf" in msg:
        return WorldError(f"{p}: <sdf> has no version attribute")
    return WorldError(f"{p}: rod could not read the file: {type(exc).__name__}: {msg}")


def check_world(path: str | Path) -> WorldReport:
    """Parse an SDF world file with rod and list its worlds, models, lights and plugins.

    Raises :class:`WorldError` when the file cannot be read, is not well-formed XML, is not
    SDFormat >= 1.7, breaks a structural rule, or has no ``<world>``.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise WorldError(f"{p}: cannot read file: {e.strerror or e}") from None
    try:
        sdf = rod.Sdf.load(p, is_urdf=False)
    except Exception as e:  # rod raises RuntimeError, mashumaro and expat errors
        raise _rod_error(p, e, data) from None
    raw = _scan(data)
    problems = _structure_problems(raw)
    if problems:
        raise WorldError("\n".join(f"{p}:{line}: {msg}" for line, msg in problems))
    raw_worlds = raw.all("world")
    if not raw_worlds:
        found = ", ".join(sorted({f"<{c.tag}>" for c in raw.children})) or "nothing"
        raise WorldError(f"{p}:{raw.line}: no <world> element in <sdf> (found {found})")
    worlds: list[WorldInfo] = []
    parsed: list[Any] = list(sdf.worlds())
    if len(parsed) != len(raw_worlds):
        raise WorldError(f"{p}: rod read {len(parsed)} of {len(raw_worlds)} <world> elements")
    for rw, pw in zip(raw_worlds, parsed, strict=True):
        by_name = {m.name: m for m in pw.models()}
        models: list[ModelInfo] = []
        for rm in rw.all("model"):
            name = rm.attrs["name"]
            pm = by_name.get(name)
            if pm is None or len(pm.links()) != len(rm.all("link")):
                raise WorldError(
                    f"{p}:{rm.line}: rod could not read model '{name}' completely "
                    "(check its <pose>, <link>, <inertial> and <geometry> elements)"
                )
            models.append(
                ModelInfo(
                    name=name,
                    static=bool(pm.static),
                    links=len(pm.links()),
                    joints=len(pm.joints()),
                    plugins=tuple(_plugin(x) for x in rm.all("plugin")),
                )
            )
        worlds.append(
            WorldInfo(
                name=str(pw.name),
                models=tuple(models),
                lights=tuple(
                    f"{x.attrs['name']} ({x.attrs.get('type', 'point')})" for x in rw.all("light")
                ),
                plugins=tuple(_plugin(x) for x in rw.all("plugin")),
                includes=tuple(
                    (inc.first("uri") or _Node("uri", {}, inc.line)).text
                    for inc in rw.all("include")
                ),
            )
        )
    return WorldReport(str(p), str(sdf.version), tuple(worlds))
