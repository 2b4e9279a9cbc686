"""Every identity URL: DID documents and resolution, VC-API verifiers, JSON API, pages."""

from django.urls import path, re_path

from identity import api, views

app_name = "identity"

urlpatterns = [
    # Public, machine-readable
    path(".well-known/did.json", api.city_did_document, name="city-did"),
    re_path(r"^1\.0/identifiers/(?P<did>.+)$", api.resolve_identifier, name="resolve"),
    path(
        "identity/status/<str:purpose>/<int:number>", api.status_list_credential, name="status-list"
    ),
    path("api/vc/credentials/verify", api.VerifyCredentialView.as_view(), name="verify-credential"),
    path("api/vc/challenges", api.ChallengeView.as_view(), name="vc-challenge"),
    path(
        "api/vc/presentations/verify",
        api.VerifyPresentationView.as_view(),
        name="verify-presentation",
    ),
    # Citizens
    path("api/identity/me", api.MeView.as_view(), name="api-me"),
    path("api/identity/did/challenge", api.BindChallengeView.as_view(), name="api-bind-challenge"),
    path("api/identity/did/bind", api.BindView.as_view(), name="api-bind"),
    path("api/identity/claims", api.ClaimsView.as_view(), name="api-claims"),
    path(
        "api/identity/credentials/<int:pk>",
        api.CredentialDocumentView.as_view(),
        name="api-credential",
    ),
    # Officials
    path(
        "api/identity/claims/<int:pk>/approve",
        api.ClaimApproveView.as_view(),
        name="api-claim-approve",
    ),
    path(
        "api/identity/claims/<int:pk>/reject",
        api.ClaimRejectView.as_view(),
        name="api-claim-reject",
    ),
    path("api/identity/credentials", api.CredentialsView.as_view(), name="api-credentials"),
    path(
        "api/identity/credentials/<int:pk>/status",
        api.CredentialStatusView.as_view(),
        name="api-credential-status",
    ),
    # Pages
    path("identity/", views.city_page, name="city"),
    path("identity/wallet/", views.wallet, name="wallet"),
    path(
        "identity/wallet/credentials/<int:pk>.json",
        views.download_credential,
        name="download-credential",
    ),
    path("identity/claim/", views.claim_form, name="claim"),
    path("identity/official/claims/", views.review_queue, name="review-queue"),
    path("identity/official/claims/<int:pk>/", views.review_claim, name="review-claim"),
    path("identity/official/claims/<int:pk>/document", views.claim_document, name="claim-document"),
    path("identity/official/credentials/", views.manage_credentials, name="manage-credentials"),
]
