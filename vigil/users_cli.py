"""``vigil users add|list``: console users from the command line, in the store the node uses.

The store is the one ``service.yaml`` in the config folder names (SQLite under ``var/`` by
default, PostgreSQL in production), so a user added here can log in to a node started on
the same config. Passwords come from standard input (``--password-stdin``), never from the
command line, where ``ps`` and shell history would keep them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TextIO

from console.users import add_user
from core.clock import SystemClock
from core.config import load_config
from core.errors import ConfigError, RequestError
from core.store import Store, open_store


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               default_config: Path) -> None:
    """The ``users`` sub-command and its own sub-commands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=default_config,
                        help="config folder whose service.yaml names the store (default: configs)")
    users = sub.add_parser("users", help="add and list console users")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create a console user", parents=[common])
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True,
                     choices=("monitor", "dispatcher", "supervisor", "admin"))
    add.add_argument("--display-name", default=None, help="name shown in the console")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input "
                          "(without it, it is asked for at the terminal)")
    users_sub.add_parser("list", help="one line per user: name, role, display name, state",
                         parents=[common])


def _password(from_stdin: bool, stdin: TextIO) -> str:
    if from_stdin or not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise RequestError([("password", "the two entries differ")])
    return first


def _open(config_dir: Path) -> Store:
    return open_store(load_config(config_dir).service.store, SystemClock())


def users_command(args: argparse.Namespace, stdin: TextIO = sys.stdin,
                  out: TextIO = sys.stdout) -> int:
    """Run ``vigil users …``; 0 on success, 2 with a one-line reason per problem."""
    try:
        store = _open(args.config)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    try:
        if args.users_command == "list":
            for user in store.list_users():
                state = "disabled" if user.disabled else "active"
                print(f"{user.username}\t{user.role}\t{user.display_name}\t{state}", file=out)
            return 0
        password = _password(args.password_stdin, stdin)
        user = add_user(store, args.username, password, args.role, args.display_name)
    except RequestError as exc:
        for field, why in exc.problems:
            print(f"vigil users: {field}: {why}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"user {user.username} added ({user.role})", file=out)
    return 0
