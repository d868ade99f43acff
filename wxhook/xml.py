"""Hardened XML in, CDATA-safe XML out.

WeChat bodies are tiny and flat, so they become plain nested dicts: tag → text, or tag → dict for an element
with children, or tag → list when a tag repeats. No DTD is ever honoured: a body that declares one is
refused before and after parsing (the second check catches declarations hidden by a non-UTF-8 encoding).

Whitespace around a value is layout, not meaning: real pushes carry ``<MsgType> <![CDATA[event]]> </MsgType>``.
Text outside CDATA is stripped; a CDATA section is taken verbatim (a follower's `` hi `` keeps its spaces),
with the whitespace around it dropped. The parsed dicts (and so every message's ``.raw``) hold these values.
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
    strip_cdata=False,  # keeps CDATA sections as text nodes of their own, to tell layout from content
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
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
