"""BigBlueButton's response shapes: XML under `<response>`, `returncode`
first, and refusals as HTTP 200 with FAILED, a `messageKey` and a message."""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.etree.ElementTree import Element, SubElement, tostring

from starlette.responses import Response

# A field's value: text, a flag, a number, nothing, or nested fields.
Value = str | bool | int | None | Element | list["Field"]
Field = tuple[str, Value]
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class BbbError(Exception):
    """A call refused with FAILED: `key` is BigBlueButton's messageKey."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def element(tag: str, fields: Iterable[Field]) -> Element:
    """An element holding the fields, in order."""
    parent = Element(tag)
    for name, value in fields:
        _add(parent, name, value)
    return parent


def success(*fields: Field) -> Response:
    """A SUCCESS answer with the fields after the returncode."""
    return _response([("returncode", "SUCCESS"), *fields])


def failed(key: str, message: str) -> Response:
    """A FAILED answer, sent with HTTP 200 as BigBlueButton does."""
    return _response(
        [("returncode", "FAILED"), ("messageKey", key), ("message", message)]
    )


def _response(fields: list[Field]) -> Response:
    body = tostring(element("response", fields), encoding="unicode")
    return Response(body, media_type="text/xml; charset=utf-8")


def _add(parent: Element, name: str, value: Value) -> None:
    if isinstance(value, Element):
        parent.append(value)
        return
    child = SubElement(parent, name)
    if isinstance(value, list):
        for inner_name, inner in value:
            _add(child, inner_name, inner)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = _NOT_XML.sub("", str(value))
