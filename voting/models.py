"""Elections, their trustees and key ceremony, and their eligibility: the blind-signature key
and the one grant per citizen. Rows only store state; the rules live in voting.services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Election(models.Model):
    """A ballot opened by the city for the residents of one district (or the whole city).

    Lifecycle (voting.services.lifecycle): draft -> ceremony -> scheduled -> open -> closed ->
    tallying -> published, and cancelled from any state before open.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CEREMONY = "ceremony", _("Key ceremony")
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        TALLYING = "tallying", _("Tallying")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    district = models.CharField(
        max_length=100, blank=True, help_text="Residents of this district may vote; blank means the whole city."
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The public cryptographic context the booth encrypts under (docs/protocol.md):
    # {manifest, joint_key, trustees, threshold, trustee_commitments, extended_hash}. Set once,
    # from a verified key ceremony, before the election opens.
    context = models.JSONField(null=True, blank=True)
    ceremony_transcript = models.JSONField(null=True, blank=True)
    # What an official drafts. The manifest is the crypto library's manifest JSON
    # (civic_votecrypto.manifest); it and the window are frozen once the ceremony starts.
    description = models.TextField(blank=True, help_text="Markdown; rendered sanitized.")
    manifest = models.JSONField(null=True, blank=True)
    threshold = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="t: how many trustees must take part in decryption."
    )
    required_observer_reports = models.PositiveSmallIntegerField(
        default=1, help_text="Passing observer reports needed before results show as verified."
    )
    log_name = models.CharField(
        max_length=64, blank=True, help_text="The election's own ledger log, once the ceremony starts."
    )
    state_reason = models.TextField(blank=True, help_text="Why it was cancelled or closed early.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class ElectionTrustee(models.Model):
    """Trustee ``index`` (1..n) of an election: one trustee account, chosen by the official."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="trustees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    index = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["election", "index"]
        constraints = [
            models.UniqueConstraint(fields=["election", "index"], name="voting_trustee_index"),
            models.UniqueConstraint(fields=["election", "user"], name="voting_trustee_once"),
        ]


class CeremonyMessage(models.Model):
    """One public key-ceremony message a trustee sent (docs/protocol-trustees.md), stored only
    after the same pure checks the verifier makes; one per trustee and kind."""

    class Kind(models.TextChoices):
        ANNOUNCEMENT = "announcement", _("Announcement")
        COMMITMENTS = "commitments", _("Encrypted shares")
        COMPLAINTS = "complaints", _("Complaints")

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="ceremony_messages")
    trustee = models.ForeignKey(ElectionTrustee, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    document = models.JSONField(help_text="The civic-trustee-message/1 envelope as received.")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the envelope's RFC 8785 bytes.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["election", "trustee__index", "received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "trustee", "kind"], name="voting_one_message_per_kind"
            )
        ]


class ApiCredential(models.Model):
    """An account's API credential, for programs that act for it: the trustee program's
    ceremony and decryption commands, an official's scripts against the officials' API.

    It authenticates the account only; each endpoint's permission class decides what the account
    may do (voting.authentication). The secret is shown once; only its SHA-256 is stored (it is
    256 random bits, so a plain hash suffices), looked up by the public ``key_id`` and compared
    in constant time.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_credentials"
    )
    key_id = models.CharField(max_length=32, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class EligibilityKey(models.Model):
    """An election's RSA blind-signature key (RFC 9474, RSABSSA-SHA384-PSS-Randomized).

    A city-wide election of a city with configured districts has one key per district, so the
    token (and so the anonymous ballot) shows its voter's district and turnout can be counted per
    district; any other election has one key, whose ``district`` is blank.
    """

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="eligibility_keys")
    district = models.CharField(
        max_length=100, blank=True, default="", help_text="The district whose residents it signs for; blank: all."
    )
    variant = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64, unique=True)
    public_key_pem = models.TextField()
    private_key_sealed = models.TextField(
        help_text="PKCS#8 DER sealed with AES-256-GCM under a key from the city key file (base64)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["election", "district"]
        constraints = [
            models.UniqueConstraint(fields=["election", "district"], name="voting_one_key_per_district")
        ]


class EligibilityGrant(models.Model):
    """Only the fact that this citizen (DID) received a token for this election: nothing about it."""

    election = models.ForeignKey(Election, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    did = models.CharField(max_length=128)
    issued_at = models.DateTimeField(auto_now_add=True)
    commitment = models.CharField(max_length=64)
    commitment_salt = models.CharField(max_length=64)
    district = models.CharField(
        max_length=100, blank=True, default="",
        help_text="The district of the key that signed the token (blank: the election's one key).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["election", "user"], name="voting_one_token_per_citizen"),
            models.UniqueConstraint(fields=["election", "did"], name="voting_one_token_per_did"),
        ]


# -- the ballot box (issue 11) ------------------------------------------------------------------
class BallotKey(models.Model):
    """One voter's per-election Ed25519 ballot key, as the box first saw it with a valid token.

    Its row is locked (``select_for_update``) while a ballot under it is stored, so concurrent
    casts under one key take turns and exactly one ballot stays current. It holds no account,
    no DID and no address: the blind signature makes the key unlinkable to the voter.
    """

    election = models.ForeignKey(Election, on_delete=models.PROTECT, related_name="ballot_keys")
    public_key = models.CharField(max_length=43, help_text="base64url of the 32-byte Ed25519 key.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["election", "public_key"], name="voting_ballot_key_once")
        ]


class CastBallot(models.Model):
    """A ballot as received (cast or spoiled), kept forever; the one that counts per ballot key is
    the last cast one (``counting``). Stored with its ledger outbox entry in one
    transaction; the log position appears on the outbox entry once the sequencer has run."""

    class Kind(models.TextChoices):
        CAST = "cast", _("Cast")
        SPOILED = "spoiled", _("Challenged (spoiled)")

    election = models.ForeignKey(Election, on_delete=models.PROTECT, related_name="ballots")
    ballot_key = models.ForeignKey(BallotKey, on_delete=models.PROTECT, related_name="ballots")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    ballot_id = models.CharField(max_length=128)
    token = models.JSONField(help_text="The RFC 9474 token {key_id, prefix, signature}.")
    key_signature = models.CharField(max_length=86, help_text="base64url Ed25519 signature.")
    document = models.JSONField(help_text="The civic-ballot-v1 ballot (or challenged ballot) as received.")
    tracking_code = models.CharField(max_length=29)
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the ballot's RFC 8785 bytes.")
    received_at = models.DateTimeField()
    counting = models.BooleanField(help_text="The ballot key's current cast ballot (never a spoiled one).")
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by",
        help_text="The ballot this re-vote replaced as the one that counts.",
    )
    outbox = models.OneToOneField("ledger.OutboxEntry", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["election", "id"]
        constraints = [
            models.UniqueConstraint(fields=["election", "sha256"], name="voting_ballot_once"),
            models.UniqueConstraint(fields=["election", "ballot_id"], name="voting_ballot_id_once"),
            models.UniqueConstraint(fields=["election", "tracking_code"], name="voting_tracking_code_once"),
            models.UniqueConstraint(
                fields=["ballot_key"],
                condition=models.Q(counting=True), name="voting_one_current_ballot_per_key",
            ),
        ]
        indexes = [
            models.Index(
                fields=["election"],
                condition=models.Q(counting=True), name="voting_ballots_counting",
            )
        ]


# -- the tally (issue 12) -----------------------------------------------------------------------
class Tally(models.Model):
    """The counting of one closed election, step by step (voting.services.box_freeze, aggregation,
    decryption_shares, results): the frozen box, the chunked aggregation's progress, the encrypted
    tally, then the decrypted results. Every field is set once by the step that owns it, so each
    step is idempotent: it looks here first."""

    election = models.OneToOneField(Election, on_delete=models.PROTECT, related_name="tally")
    frozen = models.JSONField(
        help_text="The election.box_frozen payload (counts and the covering checkpoint)."
    )
    chunk_size = models.PositiveIntegerField()
    chunks_total = models.PositiveIntegerField()
    chunks_done = models.PositiveIntegerField(
        default=0, help_text="Progress: chunk sums stored so far."
    )
    chunk_starts = models.JSONField(
        default=list, help_text="Id of each chunk's first counting ballot (the cut, fixed at the freeze)."
    )
    encrypted = models.JSONField(null=True, blank=True, help_text="The record's tally section.")
    tally_sha256 = models.CharField(max_length=64, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the trustees were emailed."
    )
    results = models.JSONField(null=True, blank=True, help_text="The record's results section.")
    results_sha256 = models.CharField(max_length=64, blank=True)
    results_outbox = models.OneToOneField(
        "ledger.OutboxEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The election.results entry (its log position and anchor show on the results page).",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    record_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the sealed election record (RFC 8785)."
    )
    record_signature = models.JSONField(
        null=True, blank=True, help_text="The city's signature {public_key, signature} over it."
    )
    record_outbox = models.OneToOneField(
        "ledger.OutboxEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The election.record entry that logs the record hash and signature.",
    )
    created_at = models.DateTimeField(auto_now_add=True)


class TallyChunk(models.Model):
    """The per-selection sum of one fixed-size chunk of the counting ballots (ordered by id).

    One row per (tally, index): a retried or duplicated chunk task finds its row and stores nothing.
    """

    tally = models.ForeignKey(Tally, on_delete=models.PROTECT, related_name="chunks")
    index = models.PositiveIntegerField()
    first_ballot = models.BigIntegerField(help_text="Id of the chunk's first CastBallot.")
    last_ballot = models.BigIntegerField(help_text="Id of the chunk's last CastBallot.")
    ballot_count = models.PositiveIntegerField()
    sums = models.JSONField(
        help_text="{ballot_count, contests: {c: {o: {alpha, beta}}}} of this chunk."
    )
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tally", "index"]
        constraints = [
            models.UniqueConstraint(fields=["tally", "index"], name="voting_tally_chunk_once")
        ]


class DecryptionShare(models.Model):
    """A trustee's partial decryption of the tally with its proofs, stored only once it verified."""

    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="decryption_shares"
    )
    trustee = models.ForeignKey(
        ElectionTrustee, on_delete=models.PROTECT, related_name="decryption_shares"
    )
    document = models.JSONField(
        help_text="The civic-trustee-message/1 tally-share envelope as received."
    )
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the envelope's RFC 8785 bytes.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["election", "trustee__index"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "trustee"], name="voting_one_decryption_share"
            )
        ]


class AuditReport(models.Model):
    """An observer's signed ``civic-audit-report/1`` on an election's record, stored only once its
    signature verified under the registered observer's key and it named this election's record."""

    election = models.ForeignKey(Election, on_delete=models.PROTECT, related_name="audit_reports")
    observer = models.ForeignKey(
        "ledger.Observer", on_delete=models.PROTECT, related_name="audit_reports"
    )
    passed = models.BooleanField(help_text="The report's verdict: every step passed.")
    report = models.JSONField(help_text="The signed report exactly as received.")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the report's RFC 8785 bytes.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["election", "received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "observer", "sha256"], name="voting_audit_report_once"
            )
        ]
