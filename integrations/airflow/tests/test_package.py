"""pyproject.toml and the lock stay in step: the venv built from requirements.txt satisfies every
range the package declares, so what the tests ran is what an install would allow."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

PYPROJECT = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
DECLARED = [
    *PYPROJECT["project"]["dependencies"],
    *PYPROJECT["project"]["optional-dependencies"]["test"],
    *PYPROJECT["build-system"]["requires"],
]


@pytest.mark.parametrize("requirement", DECLARED)
def test_the_locked_venv_satisfies_the_declared_range(requirement: str) -> None:
    req = Requirement(requirement)
    installed = version(req.name)
    assert req.specifier.contains(installed, prereleases=True), f"{req.name} {installed} is not {req.specifier}"


def test_the_package_is_importable_from_the_repository_and_exports_its_api() -> None:
    import ct_coordinator_airflow

    assert Path(ct_coordinator_airflow.__file__).parent.parent == Path(__file__).parent.parent
    assert PYPROJECT["tool"]["setuptools"]["packages"] == ["ct_coordinator_airflow"]
    for name in ct_coordinator_airflow.__all__:
        assert getattr(ct_coordinator_airflow, name) is not None
