"""Prometheus metrics for a bot, read from the counters it keeps anyway: ``pip install 'wxhook-mp[metrics]'``.

Nothing is counted twice: a scrape reads the bot's one counter (outcomes and the window's events, ``bot.stats``),
its latency histogram and the API clients' token fetches, so metrics cost nothing between scrapes. Each worker
process answers for itself; scrape every worker, or run one (see docs/deployment.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from .config import ConfigError
from .observe import (
    BUCKETS,
    DELIVERED,
    DELIVERY_FAILED,
    HANDLER_TIMEOUT,
    OUTCOMES,
    SHED,
    STORE_ERRORS,
    TAKEN_OVER,
    Observer,
)

if TYPE_CHECKING:
    from prometheus_client.core import Metric


class Observed(Protocol):
    """What metrics read off a bot."""

    @property
    def observer(self) -> Observer: ...
    @property
    def token_fetches(self) -> int: ...

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


def metrics_exposition(bot: Observed) -> bytes:
    """The bot's metrics in Prometheus' text format."""
    try:
        from prometheus_client import CollectorRegistry, generate_latest
    except ImportError:
        raise ConfigError("Bot(metrics_path=...) needs prometheus-client: pip install 'wxhook-mp[metrics]'") from None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(bot))
    return generate_latest(registry)


class _Collector:
    def __init__(self, bot: Observed) -> None:
        self._bot = bot

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        observer = self._bot.observer
        messages = CounterMetricFamily("wxhook_messages", "Pushes by outcome", labels=["outcome"])
        for outcome in OUTCOMES:
            messages.add_metric([outcome], observer.counts[outcome])
        yield messages
        if observer.account_outcomes:  # a bot serving many accounts; at most MAX_ACCOUNT_LABELS of them by name
            per_account = CounterMetricFamily("wxhook_account_messages", "Pushes by account and outcome",
                                              labels=["account", "outcome"])
            for account, counts in observer.account_outcomes.items():
                for outcome in OUTCOMES:
                    per_account.add_metric([account, outcome], counts[outcome])
            yield per_account
        cumulative, buckets = 0, []
        for bound, count in zip((*map(str, BUCKETS), "+Inf"), observer.bucket_counts, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        yield HistogramMetricFamily("wxhook_message_seconds", "Time from a push's arrival to its answer",
                                    buckets=buckets, sum_value=observer.latency_sum)
        counts = observer.counts
        late = CounterMetricFamily("wxhook_late_replies", "Late replies sent through the customer-service API",
                                   labels=["result"])
        late.add_metric(["delivered"], counts[DELIVERED])
        late.add_metric(["failed"], counts[DELIVERY_FAILED])
        yield late
        for name, key, text in (
            ("wxhook_handler_timeouts", HANDLER_TIMEOUT, "Handlers cancelled after handler_timeout"),
            ("wxhook_takeovers", TAKEN_OVER, "Messages run again after their worker's claim lapsed"),
            ("wxhook_store_errors", STORE_ERRORS, "Requests answered success because the store failed"),
            ("wxhook_shed", SHED, "Pushes refused with 503 because they could not be answered in time"),
        ):
            yield CounterMetricFamily(name, text, value=counts[key])
        yield CounterMetricFamily("wxhook_token_fetches", "Access tokens fetched from WeChat by this process",
                                  value=self._bot.token_fetches)
