"""The Prometheus text exposition format, version 0.0.4: a ``# HELP`` and a ``# TYPE``
line per metric family, then one ``name{label="value",...} value`` line per series
(histograms as summaries: ``_sum`` and ``_count``). Names and help come from the
catalogue; label values are escaped (backslash, double quote, newline)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from .catalogue import CATALOGUE, MetricSpec
from .registry import Labels, Series

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_INVALID_LABEL_CHARS = re.compile(r"[^A-Za-z0-9_]")


def label_name(key: str) -> str:
    """A tag key as a valid label name: other characters become ``_``."""
    name = _INVALID_LABEL_CHARS.sub("_", key)
    return name if name and not name[0].isdigit() else "_" + name


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{label_name(k)}="{escape_label_value(v)}"' for k, v in labels)
    return "{" + inner + "}"


def render(series: Iterable[Series], base_labels: Sequence[tuple[str, str]] = ()) -> str:
    """The exposition text of ``series``, each with ``base_labels`` first; families in
    catalogue order, series of one family sorted by their labels."""
    by_name: dict[str, list[Series]] = {}
    for one in series:
        by_name.setdefault(one.name, []).append(one)
    lines: list[str] = []
    for name in sorted(by_name, key=_catalogue_order):
        spec = CATALOGUE.get(name) or MetricSpec(name, by_name[name][0].kind, name)
        family = spec.prometheus_name
        lines.append(f"# HELP {family} {escape_help(spec.help)}")
        lines.append(f"# TYPE {family} {spec.prometheus_type}")
        for one in sorted(by_name[name], key=lambda s: s.labels):
            labels = format_labels(_merge(base_labels, one.labels))
            if spec.kind == "histogram":
                lines.append(f"{family}_sum{labels} {format_number(one.value)}")
                lines.append(f"{family}_count{labels} {one.count}")
            else:
                lines.append(f"{family}{labels} {format_number(one.value)}")
    return "\n".join(lines) + "\n" if lines else ""


def _merge(base: Sequence[tuple[str, str]], own: Labels) -> Labels:
    """Base labels first; a series' own label of the same name wins."""
    names = {label_name(k) for k, _ in own}
    return tuple((k, v) for k, v in base if label_name(k) not in names) + own


_ORDER = {name: index for index, name in enumerate(CATALOGUE)}


def _catalogue_order(name: str) -> tuple[int, str]:
    return _ORDER.get(name, len(_ORDER)), name
