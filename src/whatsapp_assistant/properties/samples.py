"""The sample listings of "Casa Lusa Imóveis" (agent Rita Almeida) that the demo imports."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_PACKAGE = "whatsapp_assistant"
_SAMPLE = ("data", "sample_listings.csv")


def sample_listings_path() -> Path:
    """Where the sample CSV lies on disk (the package is installed as files, never zipped)."""
    resource = files(_PACKAGE).joinpath(*_SAMPLE)
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"sample listings missing from the package: {path}")
    return path


def sample_listings_text() -> str:
    """The sample CSV's text, for callers that pass it straight to importer.import_csv."""
    return files(_PACKAGE).joinpath(*_SAMPLE).read_text(encoding="utf-8")
