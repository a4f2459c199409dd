"""A call's parameters, read from the raw query string with limits.

Clients send empty and unknown parameters freely, and booleans as `true`,
`True` or `TRUE`: an empty value counts as absent, unknown names are
ignored, and any spelling of true is true, as in BigBlueButton. What is
too large is refused before anything happens.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from smeeton.http.bbb.xml import BbbError

# A create with many meta_* parameters is a few kilobytes.
MAX_QUERY = 64 * 1024
MAX_PARAMS = 256
MAX_VALUE = 2048
# Longer values some parameters need; the rest get MAX_VALUE.
LONGER = {"welcome": 5000, "moderatorOnlyMessage": 5000, "bannerText": 5000}
# And shorter ones.
SHORTER = {"meetingID": 256, "fullName": 256, "name": 256, "message": 500}


class Params:
    """The parameters of one call, first value of each name winning."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    @classmethod
    def parse(cls, query: str) -> Params:
        """Parse a query string; BbbError for one too large or malformed."""
        if len(query) > MAX_QUERY:
            raise BbbError("requestTooLarge", f"The request is over {MAX_QUERY} bytes.")
        try:
            pairs = parse_qsl(
                query,
                keep_blank_values=True,
                max_num_fields=MAX_PARAMS,
                errors="strict",
            )
        except (ValueError, UnicodeDecodeError):
            raise BbbError(
                "invalidParams",
                f"The parameters are malformed or more than {MAX_PARAMS}.",
            ) from None
        values: dict[str, str] = {}
        for name, value in pairs:
            limit = LONGER.get(name) or SHORTER.get(name) or MAX_VALUE
            if len(value) > limit:
                raise BbbError(
                    "paramTooLong",
                    f"The parameter {name[:64]} is over {limit} characters.",
                )
            values.setdefault(name, value)
        return cls(values)

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name, "")
        return value if value.strip() else default

    def require(self, name: str, key: str, message: str) -> str:
        """The value, or FAILED with BigBlueButton's messageKey."""
        value = self.get(name)
        if not value:
            raise BbbError(key, message)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        return value.strip().lower() == "true" if value else default

    def number(self, name: str, default: int = 0) -> int:
        """A whole number; one that is not is ignored, as BigBlueButton does."""
        try:
            return int(self.get(name).strip())
        except ValueError:
            return default

    def prefixed(self, prefix: str) -> dict[str, str]:
        """Parameters starting with `prefix`, without it (meta_*, userdata-*)."""
        return {
            name[len(prefix) :]: value
            for name, value in self.values.items()
            if name.startswith(prefix) and len(name) > len(prefix)
        }
