"""The layering rules of the style guide, checked on the source."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def top_level(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", sorted((ROOT / "crowdfund" / "domain").glob("*.py")), ids=lambda p: p.name)
def test_domain_modules_import_only_the_standard_library(path):
    foreign = {
        m for m in imported_modules(path)
        if top_level(m) not in sys.stdlib_module_names and not m.startswith("crowdfund.domain")
    }
    assert not foreign, f"{path.name} imports {sorted(foreign)}"


@pytest.mark.parametrize("package", ["payments", "receipts"])
def test_leaf_packages_never_import_the_application(package):
    offenders = [p.name for p in (ROOT / package).rglob("*.py")
                 if any(top_level(m) == "crowdfund" for m in imported_modules(p))]
    assert not offenders


def project_sources() -> list[Path]:
    files = [p for d in ("crowdfund", "payments", "receipts", "bench") for p in (ROOT / d).rglob("*.py")]
    return files + list(ROOT.glob("*.py"))


@pytest.mark.parametrize(("sdk", "home"), [("stripe", "payments/stripe_gateway.py"), ("weasyprint", "receipts/pdf.py")])
def test_each_sdk_is_imported_by_one_module_only(sdk, home):
    users = {p.relative_to(ROOT).as_posix() for p in project_sources() if sdk in map(top_level, imported_modules(p))}
    assert users <= {home}
