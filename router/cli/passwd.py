"""`kefu passwd`: an argon2 hash for an agent's `password_hash` in the config, so a file never
holds a password. The password is read without echo from a terminal, else the first line of stdin."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from kefu_common.errors import ProtocolError
from router.accounts.passwords import check_strength, hash_password
from router.config.accounts import AccountSettings


def add_parser(sub: Any) -> None:
    p = sub.add_parser("passwd", help="print an argon2 hash of a password for an agent's password_hash")
    p.add_argument("--id", default="", help="the agent id (a password equal to it is refused)")
    p.set_defaults(func=cmd_passwd)


def cmd_passwd(args: argparse.Namespace) -> int:
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    try:
        check_strength(password, AccountSettings().password_min_length, args.id)
    except ProtocolError as exc:
        print(f"kefu passwd: {exc.detail}", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0
