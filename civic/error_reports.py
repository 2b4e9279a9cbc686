"""Error reports (the 500 e-mails to ADMINS, the debug page) that cannot link a ballot to a person.

Django's reports carry the request's META, cookies and user beside its path; for the ballot box
that would put a tracking code or a cast next to the client's address or account. So every
report here leaves out the client's addresses and identifying headers (all paths), and for the
ballot box's paths also the account and the cookies. docs/operations.md "Ballot box privacy".
"""

from __future__ import annotations

import re
from typing import Any

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

# Headers that name the client: its address (directly or through proxies) and its browser.
IDENTIFYING_META = frozenset(
    {
        "REMOTE_ADDR",
        "REMOTE_HOST",
        "HTTP_X_FORWARDED_FOR",
        "HTTP_X_REAL_IP",
        "HTTP_FORWARDED",
        "HTTP_CLIENT_IP",
        "HTTP_TRUE_CLIENT_IP",
        "HTTP_CF_CONNECTING_IP",
        "HTTP_USER_AGENT",
        "HTTP_REFERER",
        "HTTP_COOKIE",
    }
)
BALLOT_BOX_PATH = re.compile(
    r"^/api/voting/elections/[^/]+/(ballots|turnout)|^/voting/[^/]+/track/"
)


class PrivateExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's safe filter, and the client's identifying headers cleansed as well."""

    def get_safe_request_meta(self, request: Any) -> dict[str, Any]:
        meta = super().get_safe_request_meta(request)
        return {
            k: (self.cleansed_substitute if k in IDENTIFYING_META else v) for k, v in meta.items()
        }

    def get_safe_cookies(self, request: Any) -> dict[str, Any]:
        if request is not None and BALLOT_BOX_PATH.match(request.path):
            return {name: self.cleansed_substitute for name in request.COOKIES}
        return super().get_safe_cookies(request)


class PrivateExceptionReporter(ExceptionReporter):
    """No account named in a report about a ballot box request."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if self.request is not None and BALLOT_BOX_PATH.match(self.request.path):
            data["user_str"] = "[not recorded for the ballot box]"
        return data
