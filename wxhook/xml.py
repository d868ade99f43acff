"""Hardened XML in, CDATA-safe XML out.

WeChat bodies are tiny and flat, so they become plain nested dicts: tag → text, or tag → dict for an element
with children, or tag → list when a tag repeats. No DTD is ever honoured: a body that declares one is
refused before and after parsing (the second check catches declarations hidden by a non-UTF-8 encoding).
"""

from __future__ import annotations

from typing import Any

from lxml import etree


class XMLError(ValueError):
    """The body is not a WeChat XML document; the message is the one-line reason."""


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse_xml(body: bytes) -> dict[str, Any]:
    """Parse a request body into nested dicts, refusing DTDs and entity declarations."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise XMLError("DOCTYPE and entity declarations are not allowed in WeChat XML")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XMLError(f"malformed XML: {exc.msg}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise XMLError("DOCTYPE and entity declarations are not allowed in WeChat XML")
    if len(root) == 0:
        raise XMLError("the XML document has no elements inside its root")
    return _children(root)


def _children(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # an entity reference node left unresolved
            raise XMLError("entity references are not allowed in WeChat XML")
        value: Any = _children(child) if len(child) else (child.text or "")
        if tag in out:
            existing = out[tag]
            if isinstance(existing, list):
                existing.append(value)
            else:
                out[tag] = [existing, value]
        else:
            out[tag] = value
    return out


_ILLEGAL = {
    c: None for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0xD800, 0xE000), 0xFFFE, 0xFFFF)
}


def cdata(text: str) -> str:
    """Wrap text in CDATA; a ``]]>`` inside is split across two sections so it survives intact.

    Characters that XML 1.0 forbids (most controls, lone surrogates, U+FFFE, U+FFFF) are dropped: WeChat would
    reject the whole reply for one of them, and a lone surrogate cannot even be encoded to send it.
    """
    if not text.isprintable():
        text = text.translate(_ILLEGAL)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
