"""The README documents every setting, and the package exports what it says it does."""

from __future__ import annotations

from faqbot.config import Settings
from tests.conftest import ROOT


def test_every_setting_is_documented():
    readme = (ROOT / "README.md").read_text()
    missing = [
        f"FAQBOT_{name.upper()}"
        for name in Settings.model_fields
        if f"FAQBOT_{name.upper()}" not in readme
    ]
    assert missing == []


def test_every_setting_has_a_description():
    assert all(field.description for field in Settings.model_fields.values())


def test_package_all_is_curated():
    import faqbot

    assert faqbot.__all__ == ["__version__"]
