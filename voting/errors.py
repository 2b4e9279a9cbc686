"""Voting's domain errors (platform DomainErrors, answered by the one JSON handler)."""

from __future__ import annotations

from civic.errors import DomainError


class ElectionStateError(DomainError):
    """The election is not in the state this action needs."""

    code, status = "election_state", 409


class ElectionNotOpen(ElectionStateError):
    """Tokens are issued only while the election is open (state and time window)."""

    code = "election_not_open"


class TokenAlreadyIssued(DomainError):
    """One eligibility token per citizen per election."""

    code, status = "token_already_issued", 409


class TokenRequestRefused(DomainError):
    """A token request of the documented form that this election's keys refuse: a key_id naming
    none of them (or none given where there are several), a blinded message of another size."""

    code, status = "token_request_refused", 422


class WrongDistrictKey(DomainError):
    """The wallet blinded under another district's key than its credential's: the token would be
    unusable (and would count the voter in the wrong district), so nothing is signed."""

    code, status = "wrong_district_key", 409


class IneligibleBallot(DomainError):
    """The ballot key carries no valid eligibility token for this election."""

    code, status = "ineligible_ballot", 403


class NotAllowed(DomainError):
    """The user lacks the role this step needs (the services check it, not only the views)."""

    code, status = "forbidden", 403


class ProposalInvalid(DomainError):
    """A proposal the crypto manifest or the lifecycle would refuse; ``detail`` maps each field
    (``title``, ``questions.0.options`` ...) to its message, so forms show it next to the field."""

    code, status = "invalid", 400


class ProposalRefused(ProposalInvalid):
    """The API's answer when a well-formed proposal or step is refused by the authoring or
    lifecycle rules (one field against another, the trustees named, a missing reason): 422, where
    400 means the body does not have the documented form (pages show either next to the field)."""

    code, status = "refused", 422


class SlugTaken(ProposalInvalid):
    code, status = "slug_taken", 409


# -- the key ceremony over the network and trustee credentials (docs/protocol-trustees.md) --
class NotElectionTrustee(DomainError):
    """Only the election's own trustees send its ceremony messages."""

    code, status = "not_election_trustee", 403


class CeremonyNotRunning(ElectionStateError):
    """Messages are accepted only while the election is in its key ceremony."""

    code = "ceremony_not_running"


class MalformedCeremonyMessage(DomainError):
    """Not a civic-trustee-message/1 envelope of a ceremony round, or a field is malformed."""

    code, status = "malformed_message", 400


class MalformedMessageContent(DomainError):
    """A trustee message of the documented envelope form whose body its decoder refuses (a point
    off the curve, a missing field of the kind's body, another election's identity)."""

    code, status = "malformed_content", 422


class WrongElectionMessage(DomainError):
    """The envelope names another election, base hash or (n, t)."""

    code, status = "wrong_election", 400


class WrongTrusteeIndex(DomainError):
    """The message is from another trustee index than the sender's."""

    code, status = "wrong_trustee_index", 403


class DuplicateCeremonyMessage(DomainError):
    """One message of each kind per trustee: a different second one is refused."""

    code, status = "duplicate_message", 409


class CeremonyRoundNotOpen(DomainError):
    """A round's messages are accepted once every trustee has sent the previous round's."""

    code, status = "round_not_open", 409


class CeremonyProofFailed(DomainError):
    """The message decodes but its proofs fail (the same checks the verifier makes)."""

    code, status = "proof_failed", 422


class CredentialLimitReached(DomainError):
    """An account holds at most CIVIC_API_MAX_CREDENTIALS active API credentials."""

    code, status = "credential_limit", 409


class ApiRoleRequired(DomainError):
    """API credentials are for the roles that have an API to script: trustees and officials."""

    code, status = "api_role_required", 403


# -- the ballot box (docs/protocol.md §13): each refusal names what is wrong, nothing is stored --
class MalformedCast(DomainError):
    """The body is not a cast request: strict JSON, exact keys, well-formed fields."""

    code, status = "malformed_cast", 400


class BadKeySignature(DomainError):
    """The ballot key's Ed25519 signature over the cast (or spoil) message does not verify."""

    code, status = "bad_key_signature", 403


class WrongBallotContext(DomainError):
    """The ballot's context_hash is not this election's H_E (or its contests are not this one's)."""

    code, status = "wrong_context", 422


class BallotProofInvalid(DomainError):
    """A range or limit proof, or the ballot code, does not verify."""

    code, status = "proof_invalid", 422


class ChallengeMismatch(DomainError):
    """A spoiled ballot whose revealed seed and choices do not reproduce it."""

    code, status = "challenge_mismatch", 422


class BallotAlreadyReceived(DomainError):
    """The ballot (or its ballot id) is already in the box under another key or as another kind."""

    code, status = "ballot_already_received", 409


class UnknownTrackingCode(DomainError):
    code, status = "unknown_tracking_code", 404


# -- the tally and trustee decryption (docs/protocol-trustees.md § Decryption API) --------------
class TallyNotReady(ElectionStateError):
    """The encrypted tally is not computed yet (or the election is past decryption)."""

    code = "tally_not_ready"


class MalformedTallyShare(DomainError):
    """Not a civic-trustee-message/1 tally-share envelope of this election, or malformed."""

    code, status = "malformed_share", 400


class TallyShareRefused(DomainError):
    """A tally share whose proofs fail, or that is another trustee's: ``detail`` names the trustee
    index and the selections (contest/option) that fail."""

    code, status = "share_refused", 422

    def __init__(self, trustee: int, selections: list[str], message: str) -> None:
        super().__init__({"message": message, "trustee": trustee, "selections": selections})
        self.trustee, self.selections = trustee, selections


class DuplicateTallyShare(DomainError):
    """One tally share per trustee: a different second one is refused."""

    code, status = "duplicate_share", 409
