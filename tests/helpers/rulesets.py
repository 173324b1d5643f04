"""Config and two rule versions for the rule-version tests: A sends refunds to aftersale and the
rest to presale; B does the opposite, so every decision shows which version made it."""

from __future__ import annotations

from pathlib import Path

CONFIG = """
pools:
  - id: presale
  - id: aftersale
agents:
  - id: ada
    name: Ada
    token: ada-admin-token-1
    role: admin
    pools: [presale]
    max_chats: 1
  - id: sue
    token: sue-super-token-1
    role: supervisor
    pools: [aftersale]
    max_chats: 1
  - id: al
    token: al-agent-token-12
    pools: [presale, aftersale]
    max_chats: 1
routing:
  rules: {rules}
worker:
  claim_idle_ms: 1000
"""

RULES_A = """\
default:
  pool: presale
rules:
  - name: refund
    when: {intent: refund}
    then: {pool: aftersale}
"""

RULES_B = """\
default:
  pool: aftersale
rules:
  - name: refund
    when: {intent: refund}
    then: {pool: presale, priority: high}
"""

ADMIN = {"Authorization": "Bearer ada-admin-token-1"}
SUPERVISOR = {"Authorization": "Bearer sue-super-token-1"}
AGENT = {"Authorization": "Bearer al-agent-token-12"}


def write_config(dir: Path, rules: str = RULES_A) -> tuple[Path, Path]:
    """(config file, rules file) in `dir`."""
    rules_file = dir / "routing.yaml"
    rules_file.write_text(rules, encoding="utf-8")
    cfg = dir / "kefu.yaml"
    cfg.write_text(CONFIG.format(rules=rules_file), encoding="utf-8")
    return cfg, rules_file
