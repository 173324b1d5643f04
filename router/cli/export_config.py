"""`kefu export-config --out DIR`: the live state written back to YAML, for review or git.

After start-up Redis holds the truth (docs/admin.md): admins add agents and pools, edit hours,
shifts, quick replies, the FAQ and the rules in the console. This writes that state as a config
`kefu check` accepts and `kefu serve` can seed an empty Redis with:

- DIR/kefu.yaml: the config's other sections as they were, with the live pools, agents (name,
  role, pools, skills, cap; never a token, password or key: each agent's token is named by
  `token_env`), `shifts` and `bot.hours`; the files below named relative to it, and the other
  files it named made absolute so that they still resolve;
- DIR/routing.yaml (the active rules), DIR/faq.yaml, DIR/quick_replies.yaml.

A literal secret elsewhere in the config (a webhook secret, a metrics token) is not copied: its
key becomes `KEY_env: KEFU_EXPORT_...`, a variable to set before using the file.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import yaml

from router.cli.server_store import add_store_args, server_store

if TYPE_CHECKING:
    from router.config.settings import Settings
    from router.store import Store

_SECRET = re.compile(r"token|secret|password|passwd|api_key|apikey|private_key|aes_key|encoding_aes_key",
                     re.IGNORECASE)
_PATHS = (("sla", "profiles"), ("bot", "compliance"), ("bot", "orders"), ("bot", "products"))
"""Files the config names that the export does not write: made absolute."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export-config", help="write the live state (agents without secrets, pools, hours, shifts, "
                                             "quick replies, FAQ, rules) to YAML in a directory")
    add_store_args(p)
    p.add_argument("--out", required=True, help="directory for kefu.yaml, routing.yaml, faq.yaml, quick_replies.yaml")
    p.set_defaults(func=cmd_export_config)


def cmd_export_config(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name, text in asyncio.run(_export(args, out)).items():
        (out / name).write_text(text, encoding="utf-8")
        print(out / name)
    return 0


def env_name(*parts: str) -> str:
    return "KEFU_" + "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper() for p in parts if p)


def _unsecret(node: Any, path: tuple[str, ...]) -> Any:
    """The node with literal secret values replaced by `KEY_env: KEFU_EXPORT_...`."""
    if isinstance(node, list):
        return [_unsecret(v, (*path, str(i))) for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(key, str) and _SECRET.search(key) and not key.endswith("_env") \
                and isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            out[f"{key}_env"] = env_name("export", *path, key)
        else:
            out[key] = _unsecret(value, (*path, str(key)))
    return out


def _raw(settings: Settings) -> dict[str, Any]:
    path = Path(settings.source)
    if not path.is_file():
        return {}  # the demo, or a config given as text
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


async def _agents(store: Store, raw: list[Any]) -> list[dict[str, Any]]:
    """Every agent Redis knows, as config entries without secrets."""
    configured = {a.get("id"): a for a in raw if isinstance(a, dict)}
    out: list[dict[str, Any]] = []
    for agent in sorted(await store.agents.all(), key=lambda a: a.id):
        was = configured.get(agent.id, {})
        item: dict[str, Any] = {"id": agent.id}
        if agent.name and agent.name != agent.id:
            item["name"] = agent.name
        item["token_env"] = was.get("token_env") or env_name("token", agent.id)
        if agent.role.value != "agent":
            item["role"] = agent.role.value
        if agent.pools:
            item["pools"] = list(agent.pools)
        if agent.skills:
            item["skills"] = dict(agent.skills)
        item["max_chats"] = agent.cap_configured or agent.max_chats
        if was.get("discount_limit") is not None:
            item["discount_limit"] = was["discount_limit"]
        out.append(item)
    return out


async def _export(args: argparse.Namespace, out: Path) -> dict[str, str]:
    """The files' texts, from Redis and the config; the export is audited."""
    from router.bot.config import resolve
    from router.config.resolve import resolve_settings
    from router.config.settings import Settings
    from router.live.kinds import (
        Context,
        check_hours,
        check_pools,
        check_shifts,
        hours_source,
        pools_source,
        shifts_source,
    )
    from router.live.versions import LiveVersions
    from router.ops.audit import Audit
    from router.rules.holder import initial_source

    settings = resolve_settings(args.config, Path(args.data_dir))
    raw = _raw(settings)
    faq_path = resolve(settings.base_dir, settings.bot.faq, "faq.yaml")
    quick_path = resolve(settings.base_dir, settings.bot.quick_replies, "quick_replies.yaml")
    faq_file = faq_path.read_text(encoding="utf-8") if faq_path else "entries: []\n"
    quick_file = quick_path.read_text(encoding="utf-8") if quick_path else ""
    absolute = {(section, key): str((Path(settings.base_dir) / value).resolve())
                for section, key in _PATHS
                if isinstance(value := (raw.get(section) or {}).get(key), str) and not Path(value).is_absolute()}
    async with server_store(args) as store:
        live = LiveVersions(store)

        async def doc(kind: str, fallback: str) -> str:
            stored = await live.active(kind)
            return stored["source"] if stored else fallback

        # Checked and written out again in one layout, so an export of an export is the same file.
        ctx = Context()
        pools = yaml.safe_load(pools_source(check_pools(await doc("pools", pools_source(settings.pools)), ctx)))
        hours = yaml.safe_load(hours_source(check_hours(await doc("hours", hours_source(settings.bot.hours)), ctx)))
        shifts = yaml.safe_load(shifts_source(check_shifts(await doc("shifts", shifts_source(settings.shifts)), ctx)))
        pools, hours, shifts = pools["pools"], hours["hours"], shifts["shifts"]
        faq = await doc("faq", faq_file)
        quick = await doc("quick_replies", quick_file)
        rules_vid = await store.rules.active_id()
        rules = (await store.rules.version(rules_vid)).get("source") if rules_vid else None
        rules = rules or initial_source(settings)[0]
        agents = await _agents(store, raw.get("agents") or [])

        config = _unsecret({k: v for k, v in raw.items() if k not in ("pools", "agents", "shifts")}, ())
        for (section, key), path in absolute.items():
            config[section][key] = path
        config["pools"] = pools
        config["agents"] = agents
        if shifts:
            config["shifts"] = shifts
        config.setdefault("routing", {})["rules"] = "routing.yaml"
        bot = config.setdefault("bot", {}) or {}
        config["bot"] = bot
        bot["faq"], bot["quick_replies"] = "faq.yaml", "quick_replies.yaml"
        bot.pop("hours", None)
        if hours is not None:
            bot["hours"] = hours
        header = ("# Written by `kefu export-config` from the live state in Redis. Secrets are not here:\n"
                  "# each agent's token is read from its token_env variable.\n")
        # Sections in the order Settings declares them, so an export of an export is the same file.
        order = [f.name for f in msgspec.structs.fields(Settings)]
        config = dict(sorted(config.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
        files = {"kefu.yaml": header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False, width=100),
                 "routing.yaml": rules, "faq.yaml": faq, "quick_replies.yaml": quick}
        # An export takes the shop's set-up out of the system: on the record, like any other.
        await Audit(store).record(None, "export.config", str(out), addr="cli",
                                  detail={"by": getpass.getuser(), "files": sorted(files)})
    return files
