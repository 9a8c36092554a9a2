"""One AWS call, its failures as one sentence and the fix (the IAM permission it needs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from myshift.errors import ConnectionFailed, MyshiftError, UsageError

T = TypeVar("T")

# Codes AWS answers when the identity lacks a permission (EC2 says UnauthorizedOperation).
DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
)
# Codes for credentials AWS does not accept (unknown, expired or badly signed).
BAD_CREDENTIALS = frozenset(
    {
        "AuthFailure",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
    }
)
CREDENTIALS_FIX = (
    "Give them the standard way: AWS_PROFILE (or profile in [aws] of myshift.toml), "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, SSO (aws sso login) "
    "or an instance role"
)


def aws_call(
    what: str,
    permission: str,
    fn: Callable[..., T],
    *,
    missing: tuple[str, str] | None = None,
    **kwargs: Any,
) -> T:
    """``fn(**kwargs)``; a botocore failure becomes a MyshiftError naming ``permission``.

    ``what`` completes "AWS refused to …" (e.g. "describe the RDS instance prod");
    ``missing`` is the (message, fix) for a not-found answer.
    """
    try:
        return fn(**kwargs)
    except Exception as exc:
        err = aws_failure(exc, what, permission, missing=missing)
        if err is None:
            raise
        raise err from None


def aws_failure(
    exc: BaseException,
    what: str,
    permission: str,
    *,
    missing: tuple[str, str] | None = None,
) -> MyshiftError | None:
    """``exc`` (a botocore error) as a user-facing error, or None for anything else."""
    try:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
        )
        from botocore.parsers import ResponseParserError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return None
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return UsageError(
            f"No AWS credentials were found to {what}.",
            f"{CREDENTIALS_FIX}; the identity needs {permission}.",
        )
    if isinstance(exc, EndpointConnectionError):
        return ConnectionFailed(
            f"Cannot reach AWS to {what} ({exc}).",
            "Check the network, the region and endpoint_url in [aws] of myshift.toml.",
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "?"))
        text = str(error.get("Message", "")).rstrip(".")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # A 403 with an unparsed body (some endpoints answer XML to a JSON protocol) is a denial.
        if code in DENIED or (status == 403 and code not in BAD_CREDENTIALS):
            code = code if code in DENIED else "AccessDenied"
            return UsageError(
                f"AWS refused to {what}: the caller lacks the IAM permission {permission} "
                f"({code}).",
                f"Grant {permission} to this identity (the myshift guide lists the policy), "
                "or use a profile that has it.",
            )
        if code in BAD_CREDENTIALS:
            return UsageError(
                f"AWS did not accept the credentials to {what} ({code}: {text}).",
                f"Refresh or fix them. {CREDENTIALS_FIX}.",
            )
        if missing is not None and ("NotFound" in code or code == "ResourceNotFoundException"):
            return UsageError(*missing)
        return UsageError(
            f"AWS refused to {what} ({code}: {text}).", "Fix the cause AWS names and run again."
        )
    if isinstance(exc, (BotoCoreError, ResponseParserError)):
        # An unparsable answer (an HTML error page) is not a BotoCoreError.
        return ConnectionFailed(
            f"The AWS call to {what} failed ({str(exc).splitlines()[0][:200]}).",
            "Check the network and [aws] in myshift.toml, then run again.",
        )
    return None
