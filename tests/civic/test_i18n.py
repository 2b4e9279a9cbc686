"""Languages: every catalogue complete, no English on the pages in Norwegian or Spanish, the
language negotiated from the browser and switchable on every page, and dates, times and numbers
formatted for the language in the city's time zone.

The page check renders the site's pages (public, citizen, official, trustee and observer pages,
with an open, a published and a draft election and a pending residency claim) with the test
client in English, Norwegian and Spanish, takes the text a visitor sees (and the messages handed to
the page's JavaScript), and fails on (1) any English message of the catalogue that shows up
untranslated, and (2) any word that the English and the translated page share, beyond proper
names, technical words and the test's own data: that is how literal text never wrapped in
{% translate %} is caught too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import mail
from django.test import Client
from django.utils import translation
from django.utils.formats import date_format

from civic import l10n
from civic.roles import Role
from identity.models import ResidencyClaim
from ledger.models import Observer
from tests.identity.support_identity import (
    Wallet,
    bind,
    identity_settings,  # noqa: F401 - autouse fixture
    login,
    make_user,
    post_json,
)
from tests.voting.ballot_box_support import box_settings  # noqa: F401
from tests.voting.tally_support import (
    close,
    eager_celery,  # noqa: F401
    encrypt,
    inline_sequencer,  # noqa: F401
    open_tally_election,
    store_ballot,
    tally_share_envelope,
)
from voting import views_tally
from voting.models import AuditReport
from voting.services import decryption_shares
from voting.services.authoring import Proposal, create_draft

REPO = Path(settings.BASE_DIR)
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sdr]|%%")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def catalogues() -> list[tuple[str, Path]]:
    """Every (language, .po file): each translated language has the django domain, and any other
    domain one language has (djangojs, say), every language has."""
    domains = {p.stem for p in REPO.glob("locale/*/LC_MESSAGES/*.po")} | {"django"}
    return [
        (lang, REPO / "locale" / lang / "LC_MESSAGES" / f"{domain}.po")
        for lang in TRANSLATED
        for domain in sorted(domains)
    ]


# --- (a) the catalogues -----------------------------------------------------------------------


def test_the_three_languages_are_offered() -> None:
    assert [code for code, _name in settings.LANGUAGES] == ["en", "nb", "es"]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE


@pytest.mark.parametrize(("lang", "path"), catalogues(), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_every_catalogue_is_complete_and_keeps_placeholders_and_markup(lang: str, path: Path) -> None:
    assert path.is_file(), f"{path} is missing: run `make messages` and translate it"
    po = polib.pofile(str(path))
    assert po.metadata.get("Language") == lang
    assert not po.metadata_is_fuzzy, f"{path}: the header is fuzzy"
    nplurals = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))
    problems: list[str] = []
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
            continue
        forms = (
            [entry.msgstr_plural.get(i, "") for i in range(nplurals)]
            if entry.msgid_plural
            else [entry.msgstr]
        )
        if not all(forms):
            problems.append(f"untranslated: {entry.msgid!r}")
            continue
        sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        wanted = set().union(*(set(PLACEHOLDER.findall(s)) for s in sources))
        tags = sorted(TAG.findall(entry.msgid))
        for form in forms:
            if set(PLACEHOLDER.findall(form)) - wanted or (
                not entry.msgid_plural and set(PLACEHOLDER.findall(form)) != wanted
            ):
                problems.append(f"placeholders differ: {entry.msgid!r} -> {form!r}")
            if sorted(TAG.findall(form)) != tags:
                problems.append(f"markup differs: {entry.msgid!r} -> {form!r}")
    assert not problems, f"{path}:\n" + "\n".join(problems)


def test_the_compiled_catalogues_are_current() -> None:
    """The pages below use the .mo files; a .po newer than its .mo means `make translations`."""
    for _lang, path in catalogues():
        compiled = path.with_suffix(".mo")
        assert compiled.is_file(), f"{compiled} is missing: run `make translations`"
        assert compiled.stat().st_mtime >= path.stat().st_mtime - 1, f"{compiled} is older than {path}"


# --- (b) no English on the translated pages ---------------------------------------------------

SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "svg"}
VISIBLE_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "aria-description")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Words the same in every language: the product, standards and formats, our own names.
SAME_IN_EVERY_LANGUAGE = {
    "Civic", "Merkle", "Markdown", "Bitstring", "BitstringStatusListCredential", "JSON", "JavaScript",
    "Ctrl-D", "Bokmål", "bokmål", "norsk", "English", "español", "tlog-tiles", "civic-trustee",
    "Chromium", "base64url", "slug", "Hash", "hash",
}  # fmt: skip
# Words a translation rightly shares with the English (checked by a reader of each language).
COGNATES = {
    "nb": {"Send", "under", "over", "standard", "total", "minimum", "Start", "status", "challenge", "tiles", "binding"},
    "es": {"Vote", "vote", "digital", "individual", "personal", "token", "base", "total", "script", "scripts"},
}


class VisibleText(HTMLParser):
    """The text a visitor sees or hears: element text and the labelling attributes, without
    scripts, code samples and passages marked as another language (the switcher's options);
    plus the string values of the JSON messages a page hands to its scripts."""

    def __init__(self, page_lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang = page_lang
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []
        self.json_messages = False

    def hidden(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang")
        skip = tag in SKIPPED_ELEMENTS or (lang is not None and lang != self.page_lang and tag != "html")
        self.json_messages = tag == "script" and (values.get("id") or "").endswith("-messages")
        if not self.hidden() and not skip:
            self.parts += [values[a] or "" for a in VISIBLE_ATTRIBUTES if a in values]
            if tag == "input" and values.get("type") in {"submit", "button"}:
                self.parts.append(values.get("value") or "")
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        self.json_messages = False

    def handle_data(self, data: str) -> None:
        if self.json_messages:
            self.parts += list(strings(json.loads(data)))
        elif not self.hidden():
            self.parts.append(data)


def strings(value: Any) -> list[str]:
    """Every string value in a JSON document (the messages, and the check names nested in them)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def visible_text(html: str, lang: str) -> str:
    parser = VisibleText(lang)
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def words(text: str) -> set[str]:
    """Alphabetic words of four letters or more, not acronyms or codes (all capitals)."""
    out = set()
    for token in text.split():
        token = token.strip(".,:;!?()[]{}«»“”\"'‘’…·—–/%")
        if len(token) >= 4 and re.fullmatch(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", token) and not token.isupper():
            out.add(token)
    return out


def english_fragments(lang: str) -> list[str]:
    """Pieces of English from the catalogue that must not appear in a page in ``lang``: each
    message cut at its placeholders and markup, pieces of two words and 16 characters or more,
    from messages whose translation differs from the English."""
    po = polib.pofile(str(REPO / "locale" / lang / "LC_MESSAGES" / "django.po"))
    pieces = set()
    for entry in po:
        if entry.obsolete or entry.msgstr == entry.msgid:
            continue
        for source in filter(None, (entry.msgid, entry.msgid_plural)):
            for piece in re.split(r"%\(\w+\)[sdr]|</?[a-zA-Z][^>]*>|\n", source):
                piece = re.sub(r"\s+", " ", piece).strip(" .,:;")
                if len(piece) >= 16 and " " in piece:
                    pieces.add(piece)
    return sorted(pieces)


def same_words(lang: str) -> set[str]:
    """Words of messages whose translation is the English itself (names, 'API', 'DID'...)."""
    po = polib.pofile(str(REPO / "locale" / lang / "LC_MESSAGES" / "django.po"))
    return set().union(*(words(e.msgid) for e in po if e.msgstr == e.msgid))


# Every text the test stores, so its words count as data, not as untranslated English.
DATA = [
    "Kvartal Øst", "Nordmann Kari", "Storgata", "Lindern", "Tøyen", "Sagene", "Marka",
    "Bislett", "Frogner", "Grorud", "Vika", "Majorstua", "Ekeberg", "Alna", "Holmlia",
    "klerk", "borger", "ny-borger", "vokter", "observa", "Demo City", "Tallyvalg",
    "Boothvalg", "Utkast", "Observa Universitet", "Skoyen",
]  # fmt: skip


@dataclass
class Site:
    clients: dict[str, AbstractBaseUser | None] = field(default_factory=dict)
    pages: list[tuple[str, str]] = field(default_factory=list)


def _contest(cid: str, title: str, options: list[str]) -> dict[str, Any]:
    return {
        "id": cid,
        "type": "one_of_n",
        "title": title,
        "allow_blank": False,
        "options": [{"id": f"o{i}", "title": o} for i, o in enumerate(options)],
    }


@pytest.fixture
def site(django_capture_on_commit_callbacks: Any, box_settings: None, eager_celery: None, inline_sequencer: None) -> Site:  # noqa: F811
    """An open election with a ballot, a published one with results and an observer's report, a
    draft, a citizen with a credential, a citizen whose claim waits, every role's account."""
    official = make_user("klerk", Role.OFFICIAL)
    official_client = login(official)
    citizen = make_user("borger", Role.CITIZEN)
    wallet = Wallet.new()
    assert bind(login(citizen), wallet).status_code == 201
    claim = post_json(
        login(citizen), "/api/identity/claims",
        {"legal_name": "Nordmann Kari", "address": "Storgata", "district": "Lindern"},
    )  # fmt: skip
    assert post_json(official_client, f"/api/identity/claims/{claim.json()['id']}/approve", {}).status_code == 201
    newcomer = make_user("ny-borger", Role.CITIZEN)
    assert bind(login(newcomer), Wallet.new()).status_code == 201
    assert post_json(
        login(newcomer), "/api/identity/claims",
        {"legal_name": "Skoyen", "address": "Tøyen", "district": "Sagene"},
    ).status_code == 201  # fmt: skip
    pending = ResidencyClaim.objects.get(user=newcomer)

    booth_vote = open_tally_election(
        "boothvalg", official, contests=[_contest("q", "Marka", ["Bislett", "Frogner", "Grorud"])]
    )
    ballot = encrypt(booth_vote.election, {"q": {"o0": 1}})
    store_ballot(booth_vote.election, ballot, "k1")

    tally_vote = open_tally_election(
        "tallyvalg", official, contests=[_contest("q", "Vika", ["Majorstua", "Ekeberg", "Alna"])]
    )
    for key, option in [("k1", "o0"), ("k2", "o1"), ("k3", "o0")]:
        store_ballot(tally_vote.election, encrypt(tally_vote.election, {"q": {option: 1}}), key)
    with django_capture_on_commit_callbacks(execute=True):
        close(tally_vote.election, official)
    for index in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            decryption_shares.submit_share(
                slug=tally_vote.slug, user=tally_vote.trustees[index - 1],
                document=tally_share_envelope(tally_vote, index),
            )  # fmt: skip
    election = tally_vote.refresh()
    assert election.state == election.State.PUBLISHED
    observer = Observer.objects.create(name="Observa Universitet", verifier_key="observa-key")
    AuditReport.objects.create(
        election=election, observer=observer, passed=True, sha256="0" * 64,
        report={"result": "pass", "steps": [], "observer": {"name": observer.name}},
    )  # fmt: skip

    trustee = tally_vote.trustees[0]
    now = datetime.now(UTC).replace(microsecond=0)
    draft = create_draft(official, Proposal(
        title="Utkast", description="Holmlia", district="",
        questions=[_contest("q", "Alna", ["Tøyen", "Sagene"])],
        opens_at=now.replace(year=now.year + 1), closes_at=now.replace(year=now.year + 2),
        trustees=[u.get_username() for u in tally_vote.trustees], threshold=2, required_observer_reports=1,
    ))  # fmt: skip
    observer_account = make_user("observa", Role.OBSERVER)

    booth, tally = booth_vote.slug, tally_vote.slug
    pages = [
        ("anonymous", "/"),
        ("anonymous", "/accounts/login/"),
        ("anonymous", "/accounts/signup/"),
        ("anonymous", "/accounts/password_reset/"),
        ("anonymous", "/voting/"),
        ("anonymous", "/voting/verify/"),
        ("anonymous", "/ledger/"),
        ("anonymous", "/identity/"),
        ("anonymous", "/no-such-page/"),
        ("anonymous", f"/voting/{booth}/booth/"),
        ("anonymous", f"/voting/{booth}/track/?code={ballot.tracking_code}"),
        ("anonymous", f"/voting/{booth}/track/?code=not-a-code"),
        ("anonymous", f"/voting/{booth}/ceremony/"),
        ("anonymous", f"/voting/{tally}/results/"),
        ("anonymous", f"/voting/{tally}/decryption/"),
        ("citizen", "/citizen/"),
        ("citizen", "/identity/wallet/"),
        ("citizen", "/identity/claim/"),
        ("citizen", f"/voting/{booth}/booth/"),
        ("citizen", "/official/"),
        ("official", "/official/"),
        ("official", "/voting/official/"),
        ("official", "/voting/official/new/"),
        ("official", f"/voting/official/{draft.slug}/"),
        ("official", f"/voting/official/{draft.slug}/edit/"),
        ("official", f"/voting/official/{booth}/"),
        ("official", f"/voting/official/{tally}/"),
        ("official", "/voting/official/credentials/"),
        ("official", "/identity/official/claims/"),
        ("official", f"/identity/official/claims/{pending.pk}/"),
        ("official", "/identity/official/credentials/"),
        ("official", "/accounts/password_change/"),
        ("trustee", "/trustee/"),
        ("trustee", "/trustee/credentials/"),
        ("trustee", f"/voting/{booth}/ceremony/"),
        ("trustee", f"/voting/{tally}/decryption/"),
        ("observer", "/observer/"),
    ]
    return Site(
        clients={"anonymous": None, "citizen": citizen, "official": official, "trustee": trustee, "observer": observer_account},
        pages=pages,
    )  # fmt: skip


def render_all(site: Site, lang: str) -> dict[tuple[str, str], str]:
    """Each page's visible text, the language negotiated from Accept-Language alone."""
    out = {}
    for role, url in site.pages:
        client = Client(HTTP_ACCEPT_LANGUAGE=f"{lang},en;q=0.1")
        if site.clients[role] is not None:
            client.force_login(site.clients[role])
        response = client.get(url)
        assert response.status_code in {200, 400, 403, 404}, (url, response.status_code)
        html = response.content.decode()
        assert f'<html lang="{lang}">' in html, (url, lang)
        out[(role, url)] = visible_text(html, lang)
    return out


@pytest.mark.django_db(transaction=True)
def test_pages_in_norwegian_and_spanish_show_no_english(site: Site) -> None:
    english = render_all(site, "en")
    assert "Skip to main content" in english[("anonymous", "/")]  # the extraction sees the chrome
    data_words = set().union(*(words(d) for d in DATA))
    problems: list[str] = []
    for lang in TRANSLATED:
        fragments = english_fragments(lang)
        allowed = SAME_IN_EVERY_LANGUAGE | COGNATES[lang] | data_words | same_words(lang)
        for key, text in render_all(site, lang).items():
            problems += [f"{lang} {key}: English message {f!r}" for f in fragments if f in text]
            shared = (words(text) & words(english[key])) - allowed
            problems += [f"{lang} {key}: English word(s) {sorted(shared)}"] if shared else []
    assert not problems, "\n".join(problems)


def test_the_page_check_sees_english_when_it_is_there() -> None:
    """The extraction and the comparison catch what they must: an untranslated message, a
    literal word, a label; and they pass code samples and the switcher's language names."""
    page = (
        '<html lang="es"><body><main><p>Hola, Skip to main content</p><button aria-label="Close it">x</button>'
        '<pre>civic-trustee decrypt --server</pre><option lang="nb">norsk (bokmål)</option>'
        '<script id="booth-messages" type="application/json">{"a": "Encrypting your ballot", "checks": {"x": "leaf hash"}}</script>'
        "</main></body></html>"
    )
    text = visible_text(page, "es")
    assert "Skip to main content" in text and "Close it" in text and "Encrypting your ballot" in text
    assert "leaf hash" in text
    assert "decrypt" not in text and "norsk" not in text
    assert "Skip to main content" in english_fragments("es")
    assert words("La urna de Frogner: Close 1f3a ABCD-EFGH") == {"urna", "Frogner", "Close"}


# --- (c) the switcher ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "expected"), [("nb", "Hopp til hovedinnholdet"), ("es", "Saltar al contenido principal")])
def test_the_switcher_on_every_page_changes_the_language(lang: str, expected: str) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/voting/").content.decode()
    form = re.search(r'<form action="/i18n/setlang/" method="post" class="lang-switch">(.*?)</form>', page, re.S)
    assert form, "the language form is in the base template"
    assert '<label for="language-select">Language</label>' in form.group(1)
    assert '<option value="en" lang="en" selected>' in form.group(1)  # the current language is marked
    assert f'<option value="{lang}" lang="{lang}">' in form.group(1)
    assert '<button type="submit">' in form.group(1)  # works without JavaScript
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1)).group(1)
    assert client.post("/i18n/setlang/", {"language": lang, "next": "/voting/"}).status_code == 403  # CSRF
    answer = client.post("/i18n/setlang/", {"language": lang, "next": "/voting/", "csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and answer["Location"] == "/voting/"
    after = client.get("/voting/").content.decode()  # the browser still asks for English
    assert f'<html lang="{lang}">' in after and expected in after
    assert f'<option value="{lang}" lang="{lang}" selected>' in after
    foreign = client.post(
        "/i18n/setlang/", {"language": "en", "next": "https://evil.example/", "csrfmiddlewaretoken": token}
    )
    assert foreign.status_code == 302 and foreign["Location"] == "/"  # no open redirect


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "lang"),
    [("nb-NO,nb;q=0.9,en;q=0.5", "nb"), ("da,nb-NO;q=0.7", "nb"), ("es-MX,es;q=0.8", "es"), ("fr-FR,de;q=0.5", "en")],
)
def test_the_language_is_negotiated_from_the_browser(header: str, lang: str) -> None:
    html = Client(HTTP_ACCEPT_LANGUAGE=header).get("/").content.decode()
    assert f'<html lang="{lang}">' in html


# --- (d) dates, times and numbers -----------------------------------------------------------------

WINTER = datetime(2026, 12, 24, 17, 30, tzinfo=UTC)  # 18:30 in Oslo (CET)
SUMMER = datetime(2026, 6, 1, 7, 5, tzinfo=UTC)  # 09:05 in Oslo (CEST)


@pytest.mark.parametrize(
    ("lang", "winter", "summer", "number"),
    [
        ("en", "Dec. 24, 2026, 6:30 p.m. CET", "June 1, 2026, 9:05 a.m. CEST", "1,234,567"),
        ("nb", "24. desember 2026 18:30 CET", "1. juni 2026 09:05 CEST", "1\xa0234\xa0567"),
        ("es", "24 de diciembre de 2026 a las 18:30 CET", "1 de junio de 2026 a las 09:05 CEST", "1\xa0234\xa0567"),
    ],
)
def test_dates_and_numbers_follow_the_language_and_the_city_zone(
    lang: str, winter: str, summer: str, number: str
) -> None:
    with translation.override(lang):
        assert l10n.city_datetime(WINTER) == winter
        assert l10n.city_datetime(SUMMER) == summer
        assert l10n.grouped(1234567) == number


def test_another_city_zone(settings: Any) -> None:
    settings.CIVIC_TIME_ZONE = "America/Mexico_City"
    with translation.override("es"):
        assert l10n.city_datetime(WINTER) == "24 de diciembre de 2026 a las 11:30 CST"


@pytest.mark.django_db
def test_the_official_page_shows_the_window_in_the_language_and_the_city_zone() -> None:
    official = make_user("klerk", Role.OFFICIAL)
    draft = create_draft(official, Proposal(
        title="Utkast", description="", district="", questions=[_contest("q", "Alna", ["Tøyen", "Sagene"])],
        opens_at=datetime(2030, 12, 24, 17, 30, tzinfo=UTC), closes_at=datetime(2031, 1, 2, 8, 0, tzinfo=UTC),
        trustees=[make_user(f"vokter{i}", Role.TRUSTEE).get_username() for i in (1, 2)], threshold=2,
        required_observer_reports=0,
    ))  # fmt: skip
    client = login(official)
    nb = client.get(f"/voting/official/{draft.slug}/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "24. desember 2030 18:30 CET" in nb and "2. januar 2031 09:00 CET" in nb
    assert 'datetime="2030-12-24T17:30:00+00:00"' in nb  # machine-readable, in UTC
    es = client.get(f"/voting/official/{draft.slug}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "24 de diciembre de 2030 a las 18:30 CET" in es


@pytest.mark.django_db(transaction=True)
def test_the_results_page_groups_digits_and_shows_times_for_the_language(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The published election's page with the turnout of a large city (the figures are the
    selector's, enlarged), and the observer report's arrival in the city's zone."""
    real = views_tally.selectors.turnout_view

    def large(election: Any, tally: Any) -> dict[str, Any]:
        return {**real(election, tally), "counting": 12345, "tokens": 23456, "percent": 52.63, "cast": 13000, "spoiled": 1500}

    monkeypatch.setattr(views_tally.selectors, "turnout_view", large)
    local = AuditReport.objects.get().received_at.astimezone(l10n.city_zone())
    expected = {
        "en": "12,345 ballots counted of 23,456 voting tokens issued (52.6 %).",
        "nb": "12\xa0345 stemmesedler telt av 23\xa0456 utstedte stemmetokener (52,6 %).",
        "es": "12\xa0345 papeletas contadas de 23\xa0456 tokens de votación emitidos (52,6 %).",
    }
    for lang, sentence in expected.items():
        page = Client(HTTP_ACCEPT_LANGUAGE=lang).get("/voting/tallyvalg/results/").content.decode()
        assert sentence in page, lang
        with translation.override(lang):
            assert f">{date_format(local, 'DATETIME_FORMAT')}</time>" in page, lang


@pytest.mark.django_db(transaction=True)
def test_the_results_page_says_one_ballot_and_one_token_in_the_singular(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each count of the turnout sentences takes its own singular or plural form."""
    real = views_tally.selectors.turnout_view
    figures: dict[str, Any] = {}
    monkeypatch.setattr(views_tally.selectors, "turnout_view", lambda e, t: {**real(e, t), **figures})
    cases = [
        ({"counting": 1, "tokens": 1, "percent": 100.0, "cast": 1, "spoiled": 1}, {
            "en": "1 ballot counted of 1 voting token issued (100.0 %). 1 ballot was cast in all (re-votes replace earlier ones) and 1 was challenged and opened.",
            "nb": "1 stemmeseddel telt av 1 utstedt stemmetoken (100,0 %). 1 stemmeseddel ble avgitt i alt (nye stemmer erstatter tidligere) og 1 ble kontrollert og åpnet.",
            "es": "1 papeleta contada de 1 token de votación emitido (100,0 %). Se depositó 1 papeleta en total (un nuevo voto sustituye a los anteriores) y 1 se comprobó y se abrió.",
        }),
        ({"counting": 1, "tokens": 2, "percent": 50.0, "cast": 2, "spoiled": 0}, {
            "en": "1 ballot counted of 2 voting tokens issued (50.0 %). 2 ballots were cast in all (re-votes replace earlier ones) and 0 were challenged and opened.",
            "nb": "1 stemmeseddel telt av 2 utstedte stemmetokener (50,0 %). 2 stemmesedler ble avgitt i alt (nye stemmer erstatter tidligere) og 0 ble kontrollert og åpnet.",
            "es": "1 papeleta contada de 2 tokens de votación emitidos (50,0 %). Se depositaron 2 papeletas en total (un nuevo voto sustituye a los anteriores) y 0 se comprobaron y se abrieron.",
        }),
        ({"counting": 1, "tokens": 0, "percent": None, "cast": 1, "spoiled": 0}, {
            "en": "1 ballot counted; no voting token was issued.",
            "nb": "1 stemmeseddel telt; ingen stemmetokener ble utstedt.",
            "es": "1 papeleta contada; no se emitió ningún token de votación.",
        }),
    ]
    for numbers, expected in cases:
        figures.update(numbers)
        for lang, sentence in expected.items():
            page = Client(HTTP_ACCEPT_LANGUAGE=lang).get("/voting/tallyvalg/results/").content.decode()
            turnout = re.search(r'<p id="turnout">(.*?)</p>', page, re.S)
            assert turnout and re.sub(r"\s+", " ", turnout.group(1)).strip().startswith(sentence), (lang, numbers)


# --- e-mails ------------------------------------------------------------------------------------


def english_in(text: str, lang: str) -> list[str]:
    return [f for f in english_fragments(lang) if f in re.sub(r"\s+", " ", text)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "subject", "sentence"),
    [
        ("nb", "Passord-nullstilling på testserver", "Noen har bedt om å tilbakestille passordet til kontoen din på testserver."),
        ("es", "Contraseña restablecida en testserver", "Alguien ha pedido restablecer la contraseña de su cuenta de testserver."),
    ],
)
def test_the_password_reset_mail_is_in_the_visitors_language(lang: str, subject: str, sentence: str) -> None:
    make_user("borger", Role.CITIZEN)
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    assert client.post("/accounts/password_reset/", {"email": "borger@example.org"}).status_code == 302
    (message,) = mail.outbox
    assert message.subject == subject and sentence in message.body, message.subject + message.body
    assert not english_in(message.body, lang), message.body


@pytest.mark.django_db
@pytest.mark.usefixtures("box_settings", "eager_celery", "inline_sequencer")
@pytest.mark.parametrize(("lang", "subject"), [("nb", "Dekrypter"), ("es", "Descifre el recuento de «Tallyvalg»")])
def test_the_trustees_tally_mail_is_in_the_citys_language(
    lang: str, subject: str, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LANGUAGE_CODE = lang  # CIVIC_LANGUAGE
    official = make_user("klerk", Role.OFFICIAL)
    vote = open_tally_election("tallyvalg", official, contests=[_contest("q", "Vika", ["Alna", "Grorud"])])
    store_ballot(vote.election, encrypt(vote.election, {"q": {"o0": 1}}), "k1")
    with django_capture_on_commit_callbacks(execute=True):
        close(vote.election, official)
    assert len(mail.outbox) == 3  # one per trustee
    for message in mail.outbox:
        assert subject in message.subject, message.subject
        assert "civic-trustee decrypt --server" in message.body
        assert not english_in(message.body, lang), message.body
