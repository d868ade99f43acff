"""WeChat's release test (全网发布): what its five test accounts send, and what they must get back.

WeChat authorizes one of five test official accounts (or mini programs) to the platform, chosen at random, and
checks the answers: a passive text for ``TESTCOMPONENT_MSG_TYPE_TEXT``; nothing at once for
``QUERY_AUTH_CODE:<code>``, then a customer-service text ``<code>_from_api`` sent with the token that exchanging
``<code>`` gives; a passive ``<Event>from_callback`` for an event (older versions of the test). The accounts are
known by their appids and original ids, so nobody else's pushes are touched.
"""

from __future__ import annotations

__all__ = ["TEST_ACCOUNTS"]

TEST_ACCOUNTS: dict[str, str] = {
    "wx570bc396a51b8ff8": "gh_3c884a361561", "wxd101a85aa106f53e": "gh_8dad206e9538",
    "wx9252c5e0bb1836fc": "gh_c0f28a78b318", "wxc39235c15087f6f3": "gh_905ae9d01059",
    "wx8e1097c5bc82cde9": "gh_3f222ed8d140", "wx7720d01d4b2a4500": "gh_393666f1fdf4",
    "wx14550af28c71a144": "gh_26128078e9ab", "wx05d483572dcd5d8b": "gh_39abb5d4e1b7",
    "wxa35b9c23cfe664eb": "gh_2b3713f184a6", "wx5910277cae6fd970": "gh_7818dcb60240",
}
"""The appids and original ids of the five groups' test official accounts and mini programs."""

_ORIGINAL_IDS = frozenset(TEST_ACCOUNTS.values())

TEXT_PROBE = "TESTCOMPONENT_MSG_TYPE_TEXT"
TEXT_CALLBACK = TEXT_PROBE + "_callback"
QUERY_PREFIX = "QUERY_AUTH_CODE:"


def is_test_account(appid: str, original_id: str) -> bool:
    """Whether a push comes from one of the release test's accounts."""
    return appid in TEST_ACCOUNTS or original_id in _ORIGINAL_IDS
