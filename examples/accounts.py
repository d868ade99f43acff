"""Several official accounts on one server: ``uvicorn examples.accounts:bot``.

A chain of shops, each with its own official account, answered by one bot. The accounts live in a table (a
SQLite file here, ``ACCOUNTS_DB``; in production, your own database): each is served at ``/{appid}`` on its own
credentials, looked up when its first push arrives and kept for a minute, so an account added to the table is
served within seconds without a restart. Handlers are shared; one of them answers for one account only, and
``ctx.account`` / ``ctx.api`` are always the account the push is for.

Runs as is on two demo accounts; enter ``https://your.host/wx…`` as each real account's server URL.
"""

import os
import sqlite3

from wxhook import Account, AccountLookup, Bot

DEMO = [
    ("wx2c2769f8efd9abc2", "wxhook-shop-east", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "East Street"),
    ("wx7d5f8e1a2b3c4d5e", "wxhook-shop-west", None, "West Street"),
]
DATABASE = os.environ.get("ACCOUNTS_DB", "accounts.db")


def _table() -> sqlite3.Connection:
    db = sqlite3.connect(DATABASE)
    db.execute("CREATE TABLE IF NOT EXISTS accounts "
               "(appid TEXT PRIMARY KEY, token TEXT NOT NULL, aes_key TEXT, secret TEXT, name TEXT NOT NULL)")
    db.executemany("INSERT OR IGNORE INTO accounts (appid, token, aes_key, name) VALUES (?, ?, ?, ?)", DEMO)
    db.commit()
    return db


_table().close()


async def load(appid: str) -> Account | None:
    """One row of the table, as an Account (a real bot would use its async database driver here)."""
    with sqlite3.connect(DATABASE) as db:
        row = db.execute("SELECT token, aes_key, secret, name FROM accounts WHERE appid = ?", (appid,)).fetchone()
    return None if row is None else Account(appid, token=row[0], aes_key=row[1], secret=row[2], name=row[3])


bot = Bot(accounts=AccountLookup(load, ttl=60, miss_ttl=5))


@bot.on_text("hours")
def hours(msg, ctx):
    return f"{ctx.account.name} is open 9:00–21:00."


@bot.on_text("coupon", accounts="wx7d5f8e1a2b3c4d5e")
def west_coupon(msg):
    return "This week at West Street: 20% off with code WEST20."


@bot.on_event("subscribe")
def welcome(event, ctx):
    return f"Welcome to {ctx.account.name}! Send 'hours' for our opening hours."


@bot.on_text
def anything(msg, ctx):
    return f"{ctx.account.name} got your message: {msg.content}"
