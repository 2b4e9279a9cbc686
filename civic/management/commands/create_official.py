"""Create a city official account: `manage.py create_official --username NAME --email ADDR`.

The password comes from --password-stdin, the CIVIC_OFFICIAL_PASSWORD variable, or a prompt; it is
checked by the site's password validators. It is never accepted as a command-line argument, where
it would land in the shell history and the process list.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from civic.roles import Role
from civic.services import create_user_with_role


class Command(BaseCommand):
    help = "Create a city official account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        email: str = options["email"].strip()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"invalid e-mail address: {email!r}") from exc
        if not username:
            raise CommandError("the username must not be empty")
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"a user named {username!r} already exists")
        password = self._read_password(options["password_stdin"])
        try:
            validate_password(password, get_user_model()(username=username, email=email))
        except ValidationError as exc:
            raise CommandError("password rejected: " + " ".join(exc.messages)) from exc
        create_user_with_role(username=username, email=email, password=password, role=Role.OFFICIAL)
        self.stdout.write(self.style.SUCCESS(f"official {username!r} created"))

    def _read_password(self, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        if os.environ.get("CIVIC_OFFICIAL_PASSWORD"):
            return os.environ["CIVIC_OFFICIAL_PASSWORD"]
        if not sys.stdin.isatty():
            raise CommandError("no password: use --password-stdin or set CIVIC_OFFICIAL_PASSWORD")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ")
        return first
