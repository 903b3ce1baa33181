"""Installing: declared dependencies, the constraints file, the README's set-up, a wheel.

A newcomer sets up with the README's command and the pip a new venv brings, CI with the
same command; what the code imports must be declared, not reached through another
package's extra, which older pips do not match.
"""

from __future__ import annotations

import ast
import filecmp
import importlib.metadata as md
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
#: our own top-level modules and folders
LOCAL = {"assistant", "tests", "benchmarks", "app"}


def requirements(group: str | None = None) -> list[Requirement]:
    """The runtime requirements (``None``) or those of one extra."""
    if group is None:
        return [Requirement(r) for r in PYPROJECT["dependencies"]]
    return [Requirement(r) for r in PYPROJECT["optional-dependencies"][group]]


def names(reqs: list[Requirement]) -> set[str]:
    return {canonicalize_name(r.name) for r in reqs}


RUNTIME = names(requirements())
#: what ``assistant/`` may import: the runtime and the optional model extras
PACKAGE = RUNTIME | names(requirements("openai")) | names(requirements("ollama"))
#: what the tests, benchmarks and app.py may import besides
EVERYTHING = PACKAGE | names(requirements("dev"))


def imported_modules(paths: list[Path]) -> dict[str, Path]:
    """Top-level modules imported by the files (absolute imports, third-party only)."""
    found: dict[str, Path] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.setdefault(top, path)
    return found


def undeclared(paths: list[Path], allowed: set[str]) -> list[str]:
    providers = md.packages_distributions()
    problems = []
    for module, path in sorted(imported_modules(paths).items()):
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists:
            problems.append(f"{module} ({path.relative_to(ROOT)}): no installed distribution")
        elif not dists & allowed:
            problems.append(f"{module} ({path.relative_to(ROOT)}) comes from {sorted(dists)}")
    return problems


def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def test_the_package_imports_only_what_it_declares() -> None:
    assert undeclared(python_files("assistant"), PACKAGE) == []


def test_tests_and_benchmarks_import_only_what_is_declared() -> None:
    files = python_files("tests", "benchmarks") + [ROOT / "app.py"]
    assert undeclared(files, EVERYTHING) == []


def test_the_walk_sees_an_import_that_comes_only_with_another_package() -> None:
    # starlette comes with fastapi: not declared, it would still import, until it does not
    server = ROOT / "assistant" / "web" / "server.py"
    assert "starlette" in imported_modules([server])
    assert [p for p in undeclared([server], PACKAGE - {"starlette"}) if "starlette" in p]


def _requested_extras() -> Iterator[tuple[str, str, list[Requirement]]]:
    """Each extra that an installed runtime dependency asks of another, with what it brings:
    ``(who asks, "dist[extra]", requirements of that extra)``, over the whole installed graph."""
    seen: set[str] = set()
    todo = list(requirements())
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            dist_requires = [Requirement(r) for r in md.requires(name) or []]
        except md.PackageNotFoundError:
            continue  # a platform-only dependency not installed here
        for dep in dist_requires:
            if dep.marker is None or dep.marker.evaluate({"extra": ""}):
                todo.append(dep)
            for extra in dep.extras:
                brought = [
                    r
                    for r in _requires(dep.name)
                    if r.marker is not None and r.marker.evaluate({"extra": extra})
                ]
                yield name, f"{dep.name}[{extra}]", brought
                todo.extend(brought)


def _requires(name: str) -> list[Requirement]:
    try:
        return [Requirement(r) for r in md.requires(name) or []]
    except md.PackageNotFoundError:
        return []


def test_what_an_extra_brings_is_declared_when_older_pips_miss_the_extra() -> None:
    """pip before 24 matches an extra only as the provider spells it: justext asks for
    ``lxml[html_clean]``, lxml 6 provides ``html-clean``, and the README's venv (pip 23)
    then installs no ``lxml_html_clean``, so every ``.html`` article failed."""
    problems = []
    for asker, wanted, brought in _requested_extras():
        dist, extra = wanted[:-1].split("[")
        try:
            provided = md.metadata(dist).get_all("Provides-Extra") or []
        except md.PackageNotFoundError:
            continue
        if extra in provided:
            continue
        missing = sorted(names(brought) - RUNTIME)
        if missing:
            problems.append(f"{asker} asks for {wanted} (provided: {provided}): declare {missing}")
    assert problems == []


def constraints() -> dict[str, str]:
    """``constraints.txt`` as ``{name: version}``."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not NAME==VERSION"
            pins[canonicalize_name(name)] = version
    return pins


def test_constraints_pin_every_requirement_within_its_range() -> None:
    pins = constraints()
    assert pins["torch"] == "2.13.0"
    groups = [None, *PYPROJECT["optional-dependencies"]]
    problems = []
    for req in (r for group in groups for r in requirements(group)):
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            problems.append(f"{req.name} is not pinned")
        elif not req.specifier.contains(pin, prereleases=True):
            problems.append(f"{req.name}=={pin} is outside {req}")
    assert problems == []


def _bash_blocks(markdown: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", markdown, re.S)


def test_the_readme_sets_up_exactly_as_ci_does() -> None:
    """The README's first command, without starting the app, is a line of ``.ci/run``; its
    test command too: CI cannot pass where a newcomer following the README fails."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup, tests = (block.strip() for block in _bash_blocks(readme)[:2])
    install, run_app = setup.rsplit(" && ", 1)
    assert run_app == ".venv/bin/python app.py"
    steps = [shlex.split(step) for step in install.split(" && ")]
    assert steps[0] == ["python3", "-m", "venv", ".venv"]
    # the pip the venv brings, no upgrade first, the versions CI passed with
    pip = [".venv/bin/pip", "install", "-c", "constraints.txt"]
    assert len(steps) == 2 and steps[1][:4] == pip
    assert "-U" not in steps[1] and "--upgrade" not in steps[1]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    pip_installs = [c for c in ci if re.search(r"pip\S*\s+install", c) and c[:1] != "#"]
    assert pip_installs == [install], f".ci/run does not set up as the README does: {install}"
    assert tests == ".venv/bin/python -m pytest" and tests in ci


def test_the_packaged_prompts_are_the_top_level_ones() -> None:
    """``prompts/`` is the folder users copy and edit; the package ships the same files."""
    from assistant import prompts

    packaged, edited = prompts.DEFAULTS_DIR, ROOT / "prompts"
    assert packaged.parent == ROOT / "assistant"
    assert sorted(p.name for p in packaged.glob("*.txt")) == sorted(
        f"{name}.txt" for name in prompts.TEMPLATES
    )
    match, mismatch, errors = filecmp.cmpfiles(
        packaged, edited, [p.name for p in packaged.glob("*.txt")], shallow=False
    )
    assert (mismatch, errors) == ([], [])
    assert sorted(p.name for p in edited.iterdir()) == sorted(match)


@pytest.mark.slow
def test_the_assistant_starts_from_a_wheel(tmp_path: Path) -> None:
    """A non-editable install, in a fresh venv that sees the dependencies but not this
    checkout, finds its prompts and runs ``assistant --help`` from a folder without any."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "assistant", source / "assistant", ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    # no build isolation: the venv's own setuptools builds it, with nothing to download
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist")]
    subprocess.run([*build, str(source)], check=True, cwd=source, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("article_assistant-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # the dependencies from this venv's site-packages as a plain path: its .pth files (the
    # editable finder that maps `assistant` to this checkout among them) are not run
    (purelib / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", str(wheel)],
        check=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import assistant, assistant.prompts as p; p.check_all(); "
        "print(assistant.__file__); print(p.render('refusal_no_match', covers='COVERS'))"
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    location, refusal = done.stdout.splitlines()[:2]
    assert Path(location).is_relative_to(purelib), location
    assert "It covers COVERS" in refusal
    help_ = subprocess.run(
        [str(venv / "bin" / "assistant"), "--help"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert help_.returncode == 0, help_.stderr
    assert "index" in help_.stdout and "serve" in help_.stdout
