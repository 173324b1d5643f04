"""The `kefu` command."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kefu_common.errors import ConfigError, KefuError, StartupError
from router import __version__
from router.config.resolve import resolve_settings
from router.config.settings import Settings

if TYPE_CHECKING:
    from router.runtime import Role

log = logging.getLogger("kefu")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kefu", description="Omnichannel customer-service router.")
    parser.add_argument("--version", action="version", version=f"kefu-router {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the router (web chat, channels, console)")
    serve.add_argument("--config", help="YAML config; default ./config/kefu.yaml, else the demo")
    serve.add_argument("--host", default=os.environ.get("KEFU_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("KEFU_PORT", "8080")))
    serve.add_argument("--data-dir", default=os.environ.get("KEFU_DATA_DIR", ".kefu"))
    serve.add_argument("--redis-url", default=None, help="external Redis; default embedded")
    serve.add_argument("--redis-cluster", action="store_true",
                       help="the Redis URL is one node of a Redis Cluster (as redis.cluster: true)")
    serve.add_argument("--log-level", default=os.environ.get("KEFU_LOG_LEVEL", "INFO"))
    serve.add_argument("--role", choices=("all", "web", "worker"), default=os.environ.get("KEFU_ROLE", "all"),
                       help="all (default): everything in one process; web: webhooks, web chat and console "
                            "sockets, ingest; worker: routing, outbox, timers, bot, archive (docs/operations.md)")
    serve.add_argument("--watch-rules", action="store_true",
                       help="activate the rules file as a new version whenever it changes")
    serve.add_argument("--loop", choices=("uvloop", "asyncio"), default=os.environ.get("KEFU_LOOP", "uvloop"),
                       help="the event loop: uvloop (default, where it is installed) or Python's own")
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check", help="check a config and the files it names, without starting; exit 0 or 2")
    check.add_argument("--config", help="YAML config; default ./config/kefu.yaml")
    check.set_defaults(func=cmd_check)

    rules = sub.add_parser("rules", help="check, explain and replay routing rules")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    from router.cli.rules import add_rules_commands

    add_rules_commands(rules_sub)

    bot = sub.add_parser("bot", help="the bot's figures")
    bot_sub = bot.add_subparsers(dest="bot_command", required=True)
    from router.cli.bot import add_bot_parsers

    add_bot_parsers(bot_sub)

    from router.cli.dead_letters import add_dead_letters_parser

    add_dead_letters_parser(sub)

    archive = sub.add_parser("archive", help="the archive of closed conversations (SQLite or PostgreSQL)")
    archive_sub = archive.add_subparsers(dest="archive_command", required=True)
    from router.cli.archive import add_archive_parsers

    add_archive_parsers(archive_sub)

    from router.cli.export_config import add_parser as add_export_config

    add_export_config(sub)
    from router.cli.passwd import add_parser as add_passwd

    add_passwd(sub)
    from router.cli.migrate import add_migrate_parser

    add_migrate_parser(sub)

    from router.cli.loadgen import add_parser as add_loadgen

    add_loadgen(sub)
    from router.cli.simulate import add_parser as add_simulate

    add_simulate(sub)

    telegram = sub.add_parser("telegram", help="Telegram bot set-up")
    telegram_sub = telegram.add_subparsers(dest="telegram_command", required=True)
    hook = telegram_sub.add_parser("set-webhook", help="point BOT's webhook at URL, with its secret token")
    hook.add_argument("bot", help="the bot's name in channels.telegram")
    hook.add_argument("url", help="public HTTPS URL of /webhooks/telegram/BOT")
    hook.add_argument("--config", help="YAML config; default ./config/kefu.yaml")
    hook.add_argument("--data-dir", default=os.environ.get("KEFU_DATA_DIR", ".kefu"))
    hook.set_defaults(func=cmd_telegram_set_webhook)

    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KefuError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 1


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The archive's schema check said seven lines of alembic's plugin set-up at every start; the
    # migrations it runs (alembic.runtime.migration) are still said.
    plugins = logging.getLogger("alembic.runtime.plugins")
    if plugins.level == logging.NOTSET:
        plugins.setLevel(logging.WARNING)
    from router.bot.pii import install_log_masking

    install_log_masking()
    data_dir = Path(args.data_dir)
    demo = not args.config and not Path("config/kefu.yaml").exists()
    if demo:
        writable(data_dir)  # the demo keeps its agents' tokens there
    settings = resolve_settings(args.config, data_dir)
    if not (args.redis_url or settings.redis.url):
        writable(data_dir)  # the embedded Redis keeps its AOF there
    if args.watch_rules and settings.rules_path() is None:
        print(f"kefu: --watch-rules needs routing.rules in {settings.source}", file=sys.stderr)
        return 2
    return run_loop(serve(settings, args.host, args.port, data_dir, args.redis_url, args.watch_rules,
                          redis_cluster=args.redis_cluster, role=args.role), args.loop)


def run_loop(main: Coroutine[Any, Any, int], loop: str) -> int:
    """Run `kefu serve` on uvloop unless told otherwise or it is not installed (it has no Windows
    build). Its socket writes and loop turns are C: in a burst of new chats the process keeps up
    sooner (docs/performance.md, "Session 15"). Python's loop is the fallback, and what the
    in-process tests run on. Nothing is said here: a refusal before start-up stays one line, and
    the start-up log names the loop that runs."""
    if loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(main)
    return asyncio.run(main)


def cmd_check(args: argparse.Namespace) -> int:
    from router.cli.check import cmd_check as check  # imported here: keeps `kefu --version` fast

    return check(args)


def cmd_telegram_set_webhook(args: argparse.Namespace) -> int:
    from telegram.error import TelegramError  # imported here: keeps `kefu --version` fast

    from adapters.telegram import set_webhook

    settings = resolve_settings(args.config, Path(args.data_dir))
    bots = {b.bot: b for b in settings.channels.of("telegram")}
    if args.bot not in bots:
        known = ", ".join(sorted(bots)) or "none"
        print(f"kefu: no Telegram bot {args.bot!r} in {settings.source}; bots: {known}", file=sys.stderr)
        return 1
    try:
        asyncio.run(set_webhook(bots[args.bot], args.url))
    except TelegramError as exc:
        print(f"kefu: Telegram refused the webhook: {exc}", file=sys.stderr)
        return 1
    print(f"telegram bot {args.bot}: webhook set to {args.url} with its secret token", flush=True)
    return 0


def writable(data_dir: Path) -> None:
    """Refuse, in one line, a data dir that cannot be created or written."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        raise StartupError(f"data dir {data_dir} is not writable: {exc.strerror or exc}") from None


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts: a busy port is a one-line
    refusal, not a traceback after the embedded Redis and the workers are up."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                          flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart is not held up by TIME_WAIT
        sock.bind(addr)
        sock.listen(1024)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"port {port} is in use") from None
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


async def serve(settings: Settings, host: str, port: int, data_dir: Path, redis_url: str | None,
                watch_rules: bool = False, redis_cluster: bool = False, role: Role = "all") -> int:
    from router.logsafe import AccessLog
    from router.runtime import Runtime
    from router.web.app import build_app

    sock = listen(host, port)
    try:
        rt = Runtime(settings, redis_url=redis_url, data_dir=data_dir, redis_cluster=redis_cluster, role=role)
    except BaseException:
        sock.close()
        raise
    if watch_rules:
        rt.rule_sync.watch = settings.rules_path()
    app = build_app(rt)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=settings.limits.shutdown_grace_s,
                           access_log_class=AccessLog)
    try:
        await runner.setup()
    except BaseException:
        sock.close()
        raise
    # Started: what start-up built is set aside from the collector's full walks, before the
    # listener opens, so no request waits on the one collection this takes.
    from router import heap

    heap.settle()
    site = web.SockSite(runner, sock)
    await site.start()
    base = f"http://{host}:{port}"
    print(f"kefu-router {__version__} serving {settings.source}" + (f" as {role}" if role != "all" else ""),
          flush=True)
    if role == "worker":
        print(f"health:    {base}/readyz (a worker takes no webhooks and no sockets)", flush=True)
    else:
        print(f"chat page: {base}/chat", flush=True)
        print(f"console:   {base}/console", flush=True)
    if settings.source == "<demo>":
        for agent in settings.agents:
            print(f"agent {agent.id} token {agent.token}", flush=True)
        from router.config.demo import demo_tokens

        password = demo_tokens(Path(data_dir)).get("admin_password")
        print(f"admin sign-in: id admin password {password} (console, then Team to add agents)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    log.info("event loop: %s", "uvloop" if type(loop).__module__.startswith("uvloop") else "Python's asyncio")
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("shutting down: draining work, closing sockets", flush=True)
    await runner.cleanup()  # stops the listener, closes sockets with 1001, then the runtime drains
    return 0


if __name__ == "__main__":
    sys.exit(main())
