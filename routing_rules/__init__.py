"""The routing-rule engine: a pure function from a message and its context to a decision.

    ruleset = load_rules("config/routing.yaml", pools={"presale", "aftersale"})
    decision = ruleset.decide(RuleInput(text="我要退款", channel="wechat", account="shop",
                                        now=datetime.now(UTC)))

Rules compile once per version (`RuleSet.version`, a content hash); `decide` and `explain`
never touch YAML and never do I/O. The language is described in docs/rules.md.
"""

from routing_rules.check import CheckResult, check_rules, compile_rules, load_rules
from routing_rules.model import Decision, FallbackStep, RuleInput
from routing_rules.ruleset import PRIORITY_NAMES, RuleSet, builtin_default

__version__ = "0.1.0"

__all__ = [
    "PRIORITY_NAMES",
    "CheckResult",
    "Decision",
    "FallbackStep",
    "RuleInput",
    "RuleSet",
    "builtin_default",
    "check_rules",
    "compile_rules",
    "load_rules",
]
