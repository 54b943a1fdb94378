"""The flow map: data sources → platforms → communications → channels, volumes and failure shares on every
edge, from the log's paths. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from seamline.assessment.scope import STAGE_LABELS, STAGES


@dataclass(frozen=True, slots=True)
class Node:
    index: int
    stage: str  # one of scope.STAGES
    name: str
    volume: int  # messages through it

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Edge:
    source: int  # node index
    target: int
    volume: int
    failed: int

    @property
    def failure_share(self) -> float:
        return self.failed / self.volume if self.volume else 0.0


@dataclass(frozen=True, slots=True)
class FlowMap:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    total: int

    def as_data(self) -> dict[str, Any]:
        """Nodes and edges with names, for JSON export and the console's chart."""
        return {
            "total": self.total,
            "nodes": [{"index": n.index, "stage": n.stage, "name": n.name, "volume": n.volume} for n in self.nodes],
            "edges": [
                {
                    "source_stage": self.nodes[e.source].stage,
                    "source": self.nodes[e.source].name,
                    "target_stage": self.nodes[e.target].stage,
                    "target": self.nodes[e.target].name,
                    "volume": e.volume,
                    "failed": e.failed,
                    "failure_share": round(e.failure_share, 4),
                }
                for e in self.edges
            ],
        }

    def edge_rows(self) -> list[dict[str, Any]]:
        """One flat record per edge, for CSV."""
        return [
            {
                "from": f"{STAGE_LABELS[r['source_stage']]}: {r['source']}",
                "to": f"{STAGE_LABELS[r['target_stage']]}: {r['target']}",
                "volume": r["volume"],
                "failed": r["failed"],
                "failure_share": r["failure_share"],
            }
            for r in self.as_data()["edges"]
        ]


def build(paths: Sequence[Mapping[str, Any]]) -> FlowMap:
    """Sum the paths into nodes per stage and edges between neighbouring stages (busiest first in each stage)."""
    volume: dict[tuple[str, str], int] = {}
    edges: dict[tuple[tuple[str, str], tuple[str, str]], list[int]] = {}
    total = 0
    for path in paths:
        count, failed = int(path["volume"]), int(path["failed"])
        total += count
        keys = [(stage, str(path[stage])) for stage in STAGES]
        for key in keys:
            volume[key] = volume.get(key, 0) + count
        for left, right in pairwise(keys):
            figures = edges.setdefault((left, right), [0, 0])
            figures[0] += count
            figures[1] += failed
    ordered = sorted(volume, key=lambda k: (STAGES.index(k[0]), -volume[k], k[1]))
    index = {key: i for i, key in enumerate(ordered)}
    nodes = tuple(Node(index[k], k[0], k[1], volume[k]) for k in ordered)
    links = tuple(
        Edge(index[a], index[b], figures[0], figures[1])
        for (a, b), figures in sorted(edges.items(), key=lambda item: (index[item[0][0]], index[item[0][1]]))
    )
    return FlowMap(nodes, links, total)
