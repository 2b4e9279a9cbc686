"""Sign-up, log-in, log-out, password reset and the create_official command."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpResponse
from django.test import Client

from civic.roles import Role, user_has_role

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "correct horse battery 1987"


def sign_up(client: Client, username: str = "carol", email: str = "carol@example.org", password: str = GOOD_PASSWORD) -> HttpResponse:
    return client.post(
        "/accounts/signup/",
        {"username": username, "email": email, "password1": password, "password2": password},
    )


def test_sign_up_makes_a_citizen_with_an_argon2_hash(client: Client) -> None:
    response = sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == "/citizen/"
    user = get_user_model().objects.get(username="carol")
    assert user.password.startswith("argon2")
    assert user_has_role(user, Role.CITIZEN)
    assert not user_has_role(user, Role.OFFICIAL)
    assert client.get("/citizen/").status_code == 200


def test_sign_up_rejects_weak_password_and_stores_nothing(client: Client) -> None:
    response = sign_up(client, password="12345678")
    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="carol").exists()


def test_sign_up_rejects_duplicate_email(client: Client) -> None:
    sign_up(Client())
    response = sign_up(client, username="carol2", email="CAROL@example.org")
    assert response.status_code == 400
    assert get_user_model().objects.filter(email__iexact="carol@example.org").count() == 1


def test_log_in_and_log_out(client: Client) -> None:
    sign_up(Client())
    response = client.post("/accounts/login/", {"username": "carol", "password": GOOD_PASSWORD})
    assert response.status_code == 302
    assert client.get("/citizen/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405  # log-out is a POST with a CSRF token
    assert client.post("/accounts/logout/").status_code in (200, 302)
    assert client.get("/citizen/").status_code == 302


def test_log_in_with_wrong_password_fails(client: Client) -> None:
    sign_up(Client())
    response = client.post("/accounts/login/", {"username": "carol", "password": "not it at all"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client: Client) -> None:
    sign_up(Client())
    response = client.post("/accounts/password_reset/", {"email": "carol@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"/accounts/reset/\S+/\S+/", mail.outbox[0].body)
    assert link
    form_page = client.get(link.group(0), follow=True)
    assert form_page.status_code == 200
    new_password = "a brand new passphrase 77"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    assert get_user_model().objects.get(username="carol").check_password(new_password)


def test_create_official_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVIC_OFFICIAL_PASSWORD", GOOD_PASSWORD)
    call_command("create_official", "--username", "clerk", "--email", "clerk@city.example")
    user = get_user_model().objects.get(username="clerk")
    assert user_has_role(user, Role.OFFICIAL)
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_official", "--username", "clerk", "--email", "clerk2@city.example")


def test_create_official_rejects_weak_password_and_bad_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVIC_OFFICIAL_PASSWORD", "password")
    with pytest.raises(CommandError, match="password rejected"):
        call_command("create_official", "--username", "weak", "--email", "weak@city.example")
    monkeypatch.setenv("CIVIC_OFFICIAL_PASSWORD", GOOD_PASSWORD)
    with pytest.raises(CommandError, match="invalid e-mail"):
        call_command("create_official", "--username", "weak", "--email", "not-an-address")
    assert not get_user_model().objects.filter(username="weak").exists()
