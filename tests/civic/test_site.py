"""Site chrome: landmarks, skip link, language, translations, the demo seed."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from civic.demo import seed_demo_city
from civic.roles import Role, user_has_role
from ledger.models import OutboxEntry

pytestmark = pytest.mark.django_db


def test_home_page_has_landmarks_skip_link_and_language(client: Client) -> None:
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert 'class="skip-link" href="#main"' in html
    for landmark in ("<header", "<nav", '<main id="main"', "<footer"):
        assert landmark in html
    assert 'name="language"' in html and 'value="nb"' in html
    assert "/static/civic/site.css" in html
    assert "https://" not in html.split("<body")[0]  # no CDN in the head


def test_switching_to_norwegian_translates_the_page(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "nb", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="nb">' in html
    assert "Hopp til hovedinnholdet" in html  # "Skip to main content", from the compiled nb catalogue


def test_collected_stylesheet_is_served_locally(settings: Any, tmp_path: Path) -> None:
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    response = Client().get("/static/civic/site.css")  # a new client loads WhiteNoise over the new root
    assert response.status_code == 200
    assert b".skip-link" in b"".join(response.streaming_content)


def test_demo_seed_creates_accounts_once(settings_var_dir: Path) -> None:
    created, logins = seed_demo_city()
    assert created
    assert set(logins) == {"official", "alice", "bob", "observer", "trustee-a", "trustee-b", "trustee-c"}
    users = get_user_model().objects
    assert user_has_role(users.get(username="official"), Role.OFFICIAL)
    assert user_has_role(users.get(username="alice"), Role.CITIZEN)
    assert user_has_role(users.get(username="observer"), Role.OBSERVER)
    assert users.get(username="alice").check_password(logins["alice"]["password"])
    seeded = OutboxEntry.objects.get(kind="city.demo_seeded")
    assert seeded.log.name == "city"
    assert b"password" not in bytes(seeded.entry)
    again_created, again = seed_demo_city()
    assert not again_created and again == logins
    logins_file = settings_var_dir / "demo_logins.json"
    assert json.loads(logins_file.read_text()) == logins
    assert stat.S_IMODE(logins_file.stat().st_mode) == 0o600


@pytest.fixture
def settings_var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path
