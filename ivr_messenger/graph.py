"""Graph facts about a flow: which nodes a call can reach, and loops a call could never leave.

Iterative throughout: a flow may hold up to 2,000 nodes, deeper than Python's recursion limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from ivr_messenger.flow import Flow
from ivr_messenger.nodes import HttpLookupNode, SetVariableNode


def successors(flow: Flow, node_id: str) -> list[str]:
    """The existing nodes `node_id`'s edges lead to, in edge order, without repeats."""
    targets = (edge.target for edge in flow.nodes[node_id].edges())
    return list(dict.fromkeys(t for t in targets if t is not None and t in flow.nodes))


def reachable(flow: Flow, roots: Iterable[str]) -> set[str]:
    """Every node reachable from `roots` (those that exist) by any edge."""
    seen = {root for root in roots if root in flow.nodes}
    queue = deque(seen)
    while queue:
        for target in successors(flow, queue.popleft()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively, each in discovery order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if i < len(targets):
                work.append((node, i + 1))
                target = targets[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component[::-1])
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def endless_loops(flow: Flow) -> list[tuple[list[str], str]]:
    """Cycles of nodes that never wait for the caller and that a call could never leave.

    Such a cycle is endless when no edge leaves it, or when nothing in it (a set-variable or
    an HTTP lookup) can change what its conditions decide. Returns each cycle's nodes in
    document order with the reason, in a sentence's second half.
    """
    order = {node_id: i for i, node_id in enumerate(flow.nodes)}
    busy = [n for n in flow.nodes if not flow.nodes[n].waits]
    busy_set = set(busy)
    edges = {n: [t for t in successors(flow, n) if t in busy_set] for n in busy}
    loops: list[tuple[list[str], str]] = []
    for component in strongly_connected(busy, edges):
        members = set(component)
        if len(component) == 1 and component[0] not in edges[component[0]]:
            continue  # a single node without a self-edge is no loop
        exits = any(t not in members for n in component for t in successors(flow, n))
        changes = any(
            isinstance(flow.nodes[n], SetVariableNode | HttpLookupNode) for n in component
        )
        if not exits:
            reason = "and no edge leaves it"
        elif not changes:
            reason = "and nothing in it changes what decides the way out"
        else:
            continue
        loops.append((sorted(component, key=order.__getitem__), reason))
    return sorted(loops, key=lambda loop: order[loop[0][0]])
