"""`kefu loadgen`: web chat customers and agents with a scripted conversation against any URL.

Customers write the script's lines at a rate (open loop: a slow server does not slow the offer);
agents answer every line and close the chat after its last one, so a customer's next line opens a
new conversation. Each line carries a marker (`#lg RUN.CUSTOMER.SEQ`), so the agent side can time
it and count it: a line that never reaches an agent is lost, a line shown twice on one socket is
a duplicate. Answers are timed and counted on the way back the same way. A socket the server
closes is reconnected, as a browser would: customers with `last_seen`, agents from the snapshot.

    tally.py    counters and latency samples, the report and its percentiles
    clients.py  one customer, one agent
    run.py      the plan, the schedule, progress and the drain at the end
"""

from router.loadgen.run import Plan, run
from router.loadgen.tally import Tally

__all__ = ["Plan", "Tally", "run"]
