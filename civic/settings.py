"""Django settings, driven by the environment.

Without any variable set, Civic runs embedded: SQLite and a file-system Celery broker under
``var/``, a secret key generated once into ``var/``. A deployment sets DATABASE_URL (PostgreSQL),
REDIS_URL (broker and cache), SECRET_KEY, ALLOWED_HOSTS and DEBUG=0.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CIVIC_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean variable: 1/true/yes/on are true, 0/false/no/off are false."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def load_secret_key() -> str:
    """SECRET_KEY from the environment, or from the file SECRET_KEY_FILE names (a deployment's
    secret store), else one generated once and kept in var/ (mode 0600)."""
    configured = os.environ.get("SECRET_KEY")
    if configured:
        return configured
    key_path = os.environ.get("SECRET_KEY_FILE")
    if key_path:
        key = Path(key_path).read_text().strip()
        if not key:
            raise ValueError(f"SECRET_KEY_FILE {key_path} is empty")
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


DEBUG = env_bool("DEBUG", default="DATABASE_URL" not in os.environ)
SECRET_KEY = load_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "civic",
    "identity",
    "voting",
    "ledger",
    "ledger.anchoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "civic.middleware.JsonApiErrorMiddleware",
]

ROOT_URLCONF = "civic.urls"
WSGI_APPLICATION = "civic.wsgi.application"
ASGI_APPLICATION = "civic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civic.context_processors.site",
            ],
        },
    },
]

# Database: PostgreSQL (psycopg 3) through DATABASE_URL, else SQLite under var/.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # No health check per request (it is a round trip, a third of a cast's): a connection that
    # broke fails one request, after which Django drops it; the cast path retries once itself.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=False)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "civic.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # A file, not memory, so worker processes started by tests see the same data.
            "TEST": {"NAME": str(VAR_DIR / "test_civic.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and Celery broker: Redis through REDIS_URL, else local memory and kombu's filesystem transport.
REDIS_URL = os.environ.get("REDIS_URL", "")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for sub in ("in", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
# Results are not needed by the platform (Postgres holds all state); tasks report through the DB.
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "civic")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic sweeps: a lost broker message only delays sequencing until the next sweep.
CELERY_BEAT_SCHEDULE: dict = {
    "ledger-sequence-pending": {"task": "ledger.sequence_pending", "schedule": 5.0},
    "ledger-sign-checkpoints": {"task": "ledger.sign_checkpoints", "schedule": 10.0},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Pages are in the language the visitor chose on the switcher (kept in the session), else the
# best match of the browser's Accept-Language (LocaleMiddleware), else CIVIC_LANGUAGE, which is
# also the language of the e-mails sent by background jobs. Adding a language: docs/operations.md.
LANGUAGES = [("en", _("English")), ("nb", _("Norwegian Bokmål")), ("es", _("Spanish"))]
LANGUAGE_CODE = os.environ.get("CIVIC_LANGUAGE", "en")
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ImproperlyConfigured(
        f"CIVIC_LANGUAGE={LANGUAGE_CODE!r} is not one of {', '.join(code for code, _name in LANGUAGES)}"
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
# The server's zone stays UTC (stored values, logs, the JSON API); pages show times in the city's
# zone, CIVIC_TIME_ZONE below (templates/base.html, civic.l10n).
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Browser libraries come from npm (package-lock.json), served as ES modules under /static/vendor/.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/noble", BASE_DIR / "node_modules" / "@noble")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# Input size limits: no request body over 2 MiB, no more than 1,000 form fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# Every request body is read whole before Django sees it (civic.body_deadline, civic/wsgi.py):
# within this many seconds of the headers (else 408; 0 turns it off) and at most this many bytes
# (else 413), the largest body any endpoint takes (a residency claim's document) with room.
CIVIC_BODY_TIMEOUT_S = float(os.environ.get("CIVIC_BODY_TIMEOUT_S", "30"))
CIVIC_MAX_REQUEST_BYTES = int(os.environ.get("CIVIC_MAX_REQUEST_BYTES", str(4 * 1024 * 1024)))
# JSON API bodies (civic.http.StrictJSONParser); a view may set a smaller or larger body_limit.
CIVIC_API_MAX_BODY_BYTES = int(os.environ.get("CIVIC_API_MAX_BODY_BYTES", str(64 * 1024)))
# Deepest nesting of arrays and objects in an API body (the deepest document we take, a
# presentation or a challenged ballot, is under 10).
CIVIC_API_MAX_JSON_DEPTH = int(os.environ.get("CIVIC_API_MAX_JSON_DEPTH", "32"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "civic@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "civic.schema.CivicAutoSchema",
    "EXCEPTION_HANDLER": "civic.api.json_exception_handler",
    # Reverse proxies in front whose X-Forwarded-For is trusted for client addresses (rate
    # limits); 0 = the TCP peer (REMOTE_ADDR). DRF's default (None) would trust any header sent.
    "NUM_PROXIES": int(os.environ.get("CIVIC_NUM_PROXIES", "0")),
    # OpenAPI path parameters keep the route's names (<int:pk> stays {pk}): routes and schema compare
    "SCHEMA_COERCE_PATH_PK": False,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Civic API",
    "DESCRIPTION": "Verifiable civic voting and digital identity.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Security headers; the strict ones switch on whenever DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# Content-Security-Policy on every response (django-csp; docs/operations.md "Content Security
# Policy"): scripts only from this origin, never inline; the one inline element, the booth's and
# wallet's import map, carries the request's nonce. JSON data rides in <script type=
# "application/json"> (json_script), which is not executed. Nothing is loaded from elsewhere.
# The API docs page (Swagger UI) alone also allows inline styles (civic/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Blockchain anchoring of witnessed checkpoints (off unless ANCHOR_RPC_URL is set). Values are
# checked when used, so a bad one shows on /healthz and in the logs instead of stopping start-up.
ANCHOR_RPC_URL = os.environ.get("ANCHOR_RPC_URL", "")
ANCHOR_CHAIN_ID = os.environ.get("ANCHOR_CHAIN_ID") or None
ANCHOR_CONTRACT = os.environ.get("ANCHOR_CONTRACT") or None
ANCHOR_PRIVATE_KEY = os.environ.get("ANCHOR_PRIVATE_KEY") or None
ANCHOR_KEYSTORE_FILE = os.environ.get("ANCHOR_KEYSTORE_FILE") or None
ANCHOR_KEYSTORE_PASSWORD = os.environ.get("ANCHOR_KEYSTORE_PASSWORD") or None
ANCHOR_CONFIRMATIONS = os.environ.get("ANCHOR_CONFIRMATIONS", "2")
ANCHOR_RPC_TIMEOUT = os.environ.get("ANCHOR_RPC_TIMEOUT", "10")
# Receipts and the ledger page ask the chain for its id and genesis hash at most this often.
ANCHOR_CHAIN_CHECK_S = os.environ.get("ANCHOR_CHAIN_CHECK_S", "15")
ANCHOR_INTERVAL_S = float(os.environ.get("ANCHOR_INTERVAL_S", "30"))
CELERY_BEAT_SCHEDULE["anchor-witnessed-checkpoints"] = {
    "task": "anchoring.tasks.anchor_witnessed_checkpoints",
    "schedule": ANCHOR_INTERVAL_S,
}

CIVIC_CITY_NAME = os.environ.get("CIVIC_CITY_NAME", "Demo City")

# Identity: the city's did:web, its keys, residency claims, credentials and status lists.
CIVIC_DID_WEB_HOST = os.environ.get("CIVIC_DID_WEB_HOST", "localhost%3A8000")
CIVIC_CITY_KEY_FILE = os.environ.get("CIVIC_CITY_KEY_FILE", "")  # default var/city_keys.json (0600)
CIVIC_PUBLIC_BASE_URL = os.environ.get("CIVIC_PUBLIC_BASE_URL", "")  # default from the did:web host
CIVIC_VC_DOMAIN = os.environ.get("CIVIC_VC_DOMAIN", "")  # presentations' domain; default the did:web host
CIVIC_CREDENTIAL_VALIDITY_DAYS = int(os.environ.get("CIVIC_CREDENTIAL_VALIDITY_DAYS", "365"))
CIVIC_VC_API_RATE = os.environ.get("CIVIC_VC_API_RATE", "300/minute")
CIVIC_DISTRICTS = env_list("CIVIC_DISTRICTS", [])  # empty: districts are free text
CIVIC_DID_WEB_RESOLVE_REMOTE = env_bool("CIVIC_DID_WEB_RESOLVE_REMOTE", False)
CIVIC_CHALLENGE_TTL_SECONDS = int(os.environ.get("CIVIC_CHALLENGE_TTL_SECONDS", "300"))
CIVIC_CLAIM_DOCUMENT_MAX_BYTES = int(os.environ.get("CIVIC_CLAIM_DOCUMENT_MAX_BYTES", str(2 * 1024 * 1024)))
CIVIC_STATUS_LIST_LENGTH = int(os.environ.get("CIVIC_STATUS_LIST_LENGTH", "131072"))  # bits; never below
CIVIC_STATUS_LIST_TTL_MS = int(os.environ.get("CIVIC_STATUS_LIST_TTL_MS", "5000"))
CELERY_BEAT_SCHEDULE["identity-purge-challenges"] = {
    "task": "identity.purge_expired_challenges",
    "schedule": 3600.0,
}

# Voting: elections and their eligibility (RFC 9474 blind-signature keys, one token per citizen).
CIVIC_BLIND_RSA_BITS = int(os.environ.get("CIVIC_BLIND_RSA_BITS", "3072"))

# Officials (issue 10): proposals, the lifecycle on time. Windows are typed and shown in the
# city's time zone (IANA name) and stored in UTC; the scheduler opens and closes due elections.
CIVIC_TIME_ZONE = os.environ.get("CIVIC_TIME_ZONE", "Europe/Oslo")
CIVIC_SCHEDULER_INTERVAL_S = float(os.environ.get("CIVIC_SCHEDULER_INTERVAL_S", "30"))
CIVIC_DESCRIPTION_MAX_CHARS = int(os.environ.get("CIVIC_DESCRIPTION_MAX_CHARS", "20000"))
CELERY_BEAT_SCHEDULE["voting-run-schedule"] = {
    "task": "voting.run_schedule",
    "schedule": CIVIC_SCHEDULER_INTERVAL_S,
}

# Trustees: the key ceremony over the network (docs/protocol-trustees.md).
# A commitments message of n trustees is about 0.4 KiB per trustee plus 0.2 KiB per coefficient.
CIVIC_CEREMONY_MAX_MESSAGE_BYTES = int(os.environ.get("CIVIC_CEREMONY_MAX_MESSAGE_BYTES", str(256 * 1024)))

# API credentials of trustees and officials (voting.services.api_credentials): active per account.
CIVIC_API_MAX_CREDENTIALS = int(os.environ.get("CIVIC_API_MAX_CREDENTIALS", "10"))

# Ballot box (issue 11): casting, receipts, tracking. The body limit of a cast is computed from the
# election's manifest (the largest ballot it allows) and capped here; proofs are verified on this
# crypto backend ("native" = libsecp256k1; falls back to the "py-ecc" reference if unavailable).
CIVIC_BALLOT_BOX_MAX_BODY_BYTES = int(os.environ.get("CIVIC_BALLOT_BOX_MAX_BODY_BYTES", str(1024 * 1024)))
CIVIC_BALLOT_BOX_BACKEND = os.environ.get("CIVIC_BALLOT_BOX_BACKEND", "native")
# How long a web process may reuse an *open* election's row for the box's first check (seconds;
# 0 reads it on every cast). Safe because the store re-checks the one rule inside its own
# transaction (docs/protocol.md §13.2), so a close is never missed; it saves a round trip.
CIVIC_BALLOT_BOX_ELECTION_CACHE_S = float(os.environ.get("CIVIC_BALLOT_BOX_ELECTION_CACHE_S", "1.0"))
# Casting's rate limits (civic.ratelimit, docs/operations.md "Rate limits"): per ballot key (the
# token is bound to its key, so this is per token too), counted once the key's signature verified;
# and a generous per-address bucket that polling stations' networks skip. limits' notation, parts
# joined by ";", every part must hold; empty turns a rule off. Counters live in Redis (REDIS_URL)
# or, embedded, in each process's memory; a lost Redis skips them (logged), it refuses no ballot.
CIVIC_CAST_RATE_PER_KEY = os.environ.get("CIVIC_CAST_RATE_PER_KEY", "20/minute;200/hour")
CIVIC_CAST_RATE_PER_ADDRESS = os.environ.get("CIVIC_CAST_RATE_PER_ADDRESS", "600/minute")
CIVIC_CAST_RATE_EXEMPT_NETWORKS = env_list("CIVIC_CAST_RATE_EXEMPT_NETWORKS", [])
CIVIC_RATE_LIMIT_STORAGE = os.environ.get("CIVIC_RATE_LIMIT_STORAGE", "")  # default REDIS_URL or memory://

# The tally (issue 12): counting ballots are summed in chunks of this many by parallel Celery
# tasks; the box freeze waits (retrying) for the sequencer and a signed checkpoint.
CIVIC_TALLY_CHUNK_SIZE = int(os.environ.get("CIVIC_TALLY_CHUNK_SIZE", "1000"))
CIVIC_TALLY_FREEZE_RETRY_S = float(os.environ.get("CIVIC_TALLY_FREEZE_RETRY_S", "5"))
CIVIC_TALLY_FREEZE_MAX_RETRIES = int(os.environ.get("CIVIC_TALLY_FREEZE_MAX_RETRIES", "60"))
CIVIC_TALLY_MAX_SHARE_BYTES = int(os.environ.get("CIVIC_TALLY_MAX_SHARE_BYTES", str(1024 * 1024)))
CIVIC_BALLOTS_PAGE_MAX = int(os.environ.get("CIVIC_BALLOTS_PAGE_MAX", "500"))
CELERY_BEAT_SCHEDULE["voting-advance-tallies"] = {
    "task": "voting.advance_tallies",
    "schedule": CIVIC_SCHEDULER_INTERVAL_S,
}

# /healthz reports "sequencing" degraded (not critical: casting still works) once the oldest entry
# waiting for the sequencer is older than this many seconds (a dead worker, a lost broker).
CIVIC_HEALTH_SEQUENCING_LAG_S = float(os.environ.get("CIVIC_HEALTH_SEQUENCING_LAG_S", "30"))

# Ledger: origins are <prefix>/<log>; signing keys live in a 0600 file outside the database.
LEDGER_ORIGIN_PREFIX = os.environ.get("LEDGER_ORIGIN_PREFIX", "civic.localhost/ledger")
LEDGER_WITNESS_THRESHOLD = int(os.environ.get("LEDGER_WITNESS_THRESHOLD", "1"))
LEDGER_SIGNER_KEYS_FILE = os.environ.get("LEDGER_SIGNER_KEYS_FILE", "")  # default var/ledger_keys.json (0600)

# Error reports (500 e-mails to ADMINS) never name the client's address, and for the ballot box
# not the account either (civic.error_reports).
DEFAULT_EXCEPTION_REPORTER_FILTER = "civic.error_reports.PrivateExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "civic.error_reports.PrivateExceptionReporter"
ADMINS = [("Admin", a.strip()) for a in env_list("ADMINS", [])]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
