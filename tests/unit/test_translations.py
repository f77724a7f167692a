"""Both catalogues hold every user-visible string of the code and the templates."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_tool():
    spec = importlib.util.spec_from_file_location("translations_tool", ROOT / "bin" / "translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool_and_template():
    tool = load_tool()
    return tool, tool.extract()


def test_the_source_has_translatable_strings(tool_and_template):
    _tool, template = tool_and_template
    assert len([m for m in template if m.id]) > 50


@pytest.mark.parametrize("locale", ["de", "en"])
def test_catalogue_is_complete_and_consistent(tool_and_template, locale):
    tool, template = tool_and_template
    assert tool.problems(locale, template) == []


def test_german_actually_differs_from_english(tool_and_template):
    tool, _template = tool_and_template
    german = tool.load("de")
    assert german.get("Password").string == "Passwort"
    assert german.get("Log out").string == "Abmelden"
