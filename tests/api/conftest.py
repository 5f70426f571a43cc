"""Fixtures of the service's tests: the app on a real registry, users of every role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from service_helpers import PASSWORD, PATIENT, ROLES, login

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from opensirt.registry.database import Registry


def make_settings(tmp_path: Path, **changes: object) -> object:
    """Settings for a test app (cache in the test's folder)."""
    from opensirt.api.settings import Settings

    return Settings(db=None, cache_dir=tmp_path / "cache", **changes)  # type: ignore[arg-type]


@pytest.fixture
def filled(registry: Registry) -> Registry:
    """The registry with one user per role (named as the role, plus ``physicist2``) and one
    patient (:data:`PATIENT`, HCC diagnosed 2025-01-10)."""
    from opensirt.registry.records import PatientIn
    from opensirt.registry.users import add_user
    from opensirt.registry.writer import add_patient

    with registry.transaction(actor="test") as session:
        for role in ROLES:
            add_user(session, role, role, PASSWORD)
        add_user(session, "physicist2", "physicist", PASSWORD)
        add_patient(
            session,
            PatientIn(
                patient=PATIENT,
                sex="female",
                birth_year=1960,
                diagnosis="hcc",
                diagnosis_date=dt.date(2025, 1, 10),
            ),
        )
    return registry


@pytest.fixture
def make_app(filled: Registry, tmp_path: Path) -> Callable[..., FastAPI]:
    """Build the app on the filled registry, with settings changed as given."""
    from opensirt.api.app import create_app

    def build(**changes: object) -> FastAPI:
        return create_app(make_settings(tmp_path, **changes), registry=filled)  # type: ignore[arg-type]

    return build


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    """A client of the app with default settings, logged in as nobody."""
    from fastapi.testclient import TestClient

    with TestClient(make_app()) as test_client:
        yield test_client


@pytest.fixture
def as_user(client: TestClient) -> Callable[[str], TestClient]:
    """Log the client in as a user (by name)."""

    def log_in(user_name: str) -> TestClient:
        login(client, user_name)
        return client

    return log_in
