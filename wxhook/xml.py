"""Hardened XML in, CDATA-safe XML out.

WeChat bodies are tiny and flat, so they become plain nested dicts: tag → text, or tag → dict for an element
with children, or tag → list when a tag repeats. No DTD is ever honoured: a body that declares one is
refused, before parsing when the declaration shows in the bytes (outside CDATA sections: a follower may type
``<!DOCTYPE html>`` into a message) and after parsing for one hidden by a non-UTF-8 encoding.

Whitespace around a value is layout, not meaning: real pushes carry ``<MsgType> <![CDATA[event]]> </MsgType>``.
Text outside CDATA is stripped; a CDATA section is taken verbatim (a follower's `` hi `` keeps its spaces),
with the whitespace around it dropped. The parsed dicts (and so every message's ``.raw``) hold these values.
"""

from __future__ import annotations

import re
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
    strip_cdata=False,  # keeps CDATA sections as text nodes of their own, to tell layout from content
)


def parse_xml(body: bytes) -> dict[str, Any]:
    """Parse a request body into nested dicts, refusing DTDs and entity declarations."""
    flat = _flat(body)
    return _parse_tree(body) if flat is None else flat


def _declares(body: bytes) -> bool:
    """Whether a DOCTYPE or an entity declaration shows in ``body`` outside its CDATA sections (linear: each
    section is skipped with one ``find`` of its end; an unterminated one hides nothing lxml would accept)."""
    outside, at = [], 0
    while (start := body.find(b"<![CDATA[", at)) >= 0:
        outside.append(body[at:start])
        end = body.find(b"]]>", start + 9)
        at = len(body) if end < 0 else end + 3
    outside.append(body[at:])
    rest = b" ".join(outside)
    return b"<!DOCTYPE" in rest or b"<!ENTITY" in rest



def _parse_tree(body: bytes) -> dict[str, Any]:
    """The authority: lxml, for every document the flat scanner does not fully recognise."""
    if (b"<!DOCTYPE" in body or b"<!ENTITY" in body) and _declares(body):
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


# The flat scanner. WeChat's own documents are an <xml> root holding leaf elements, each plain text or one CDATA
# section with layout around it; one regex reads them in well under half of lxml's time. Whatever it does not
# fully recognise (entities, nesting, attributes, comments, a declaration, a BOM, another encoding, a repeated
# tag, a name past 256 characters, a whitespace-only CDATA, an XML-illegal character; a DOCTYPE cannot match)
# goes to lxml, which stays the authority: the scanner answers only where lxml would answer the same
# (tests/fuzz/test_fuzz_xml.py holds it to that). It is kept for what it saves: a sixth of a plaintext push's
# instructions (docs/performance.md, "The fast paths").
#
# Linear time on any input: every part of _ELEMENT is decided by the next character. Layout stops at "<", a
# name at ">", text at "<", "&" or "]"; inside CDATA a "]" is consumed only when "]>" does not follow, so the
# section ends at the first "]]>" and nowhere else, and the loop around it splits a text in exactly one way (no
# nested ambiguity to backtrack through). A failed attempt is therefore undone in one pass over what it read,
# and findall never makes a second one: the last alternative takes the whole rest as the refusal.
_LAYOUT = r"[ \t\n]*"
_NAME = r"[A-Za-z_][A-Za-z0-9_.-]{0,255}"  # libxml2 refuses names past 50,000 characters
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f"  # and U+FFFE, U+FFFF, looked for once per document instead
_CDATA = rf"[^\]{_CONTROLS}]*(?:\](?!\]>)[^\]{_CONTROLS}]*)*"
_PLAIN = rf"[^<&\]{_CONTROLS}]*(?:\](?!\]>)[^<&\]{_CONTROLS}]*)*"
_ELEMENT = re.compile(
    rf"{_LAYOUT}<({_NAME})>"
    rf"(?:{_LAYOUT}<!\[CDATA\[(?!\s+\]\]>)({_CDATA})\]\]>{_LAYOUT}|({_PLAIN}))"
    rf"</\1>{_LAYOUT}"
    r"|([\s\S]+)"
)
_FLAT_LIMIT = 1 << 20  # far below libxml2's own limits (10 MB of text without huge_tree): lxml sees those


def _flat(body: bytes) -> dict[str, str] | None:
    """The document as ``_parse_tree`` reads it, when it is flat; None to leave it to lxml."""
    if len(body) > _FLAT_LIMIT:
        return None
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    if "\r" in text:  # XML reads every line break as "\n", before parsing (XML 1.0, section 2.11)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip(" \t\n")
    if not (text.startswith("<xml>") and text.endswith("</xml>")) or "\ufffe" in text or "\uffff" in text:
        return None
    found = _ELEMENT.findall(text, 5, len(text) - 6)
    if not found or found[-1][3]:
        return None
    # A CDATA section verbatim (an empty one reads as "" either way), plain text stripped: what _text does.
    document = {tag: cdata or plain.strip() for tag, cdata, plain, _ in found}
    return document if len(document) == len(found) else None


def _children(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # an entity reference node left unresolved
            raise XMLError("entity references are not allowed in WeChat XML")
        value: Any = _children(child) if len(child) else _text(child)
        if tag in out:
            existing = out[tag]
            if isinstance(existing, list):
                existing.append(value)
            else:
                out[tag] = [existing, value]
        else:
            out[tag] = value
    return out


def _text(element: Any) -> str:
    text: str = element.text or ""
    if not text or not (text[0].isspace() or text[-1].isspace()):
        return text  # the common case: nothing to trim, no second look
    nodes = [str(node) for node in element.xpath("text()")]
    while len(nodes) > 1 and nodes[0].isspace():
        del nodes[0]
    while len(nodes) > 1 and nodes[-1].isspace():
        del nodes[-1]
    if len(nodes) == 1 and (nodes[0] != text or b"<![CDATA[" in etree.tostring(element)):
        return nodes[0]  # a CDATA section, verbatim, without the layout around it
    return text.strip()


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
    return f"<![CDATA[{text.replace(']]>', ']]]]><![CDATA[>')}]]>"
