"""Call-backs' pure parts: which services are an agent's, and when the engine can place a call."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.db.repositories import agent_service_ids

REQUIREMENTS = {
    1: {"sales": 3},
    2: {"sales": 3, "it": 1},
    3: {},
    4: {"support": 1},
}


@pytest.mark.parametrize(
    ("skills", "services"),
    [
        ({"sales": 3}, {1, 3}),  # exactly the required level is enough
        ({"sales": 5, "it": 2}, {1, 2, 3}),  # every required skill, not just one
        ({"sales": 2, "support": 1}, {3, 4}),  # one level short is not enough
        ({}, {3}),  # a service requiring nothing is everyone's
        ({"cooking": 10}, {3}),  # unrelated skills do not count
    ],
)
def test_an_agents_services_are_those_whose_every_required_level_they_meet(
    skills: dict[str, int], services: set[int]
) -> None:
    assert agent_service_ids(skills, REQUIREMENTS) == services


def test_no_services_means_none_are_the_agents() -> None:
    assert agent_service_ids({"sales": 9}, {}) == frozenset()


_skills = st.dictionaries(st.sampled_from(["sales", "support", "it"]), st.integers(1, 10))


@given(skills=_skills, requirements=st.dictionaries(st.integers(1, 50), _skills), extra=_skills)
def test_more_skill_never_loses_a_service(
    skills: dict[str, int], requirements: dict[int, dict[str, int]], extra: dict[str, int]
) -> None:
    better = {name: max(skills.get(name, 0), level) for name, level in (skills | extra).items()}
    assert agent_service_ids(skills, requirements) <= agent_service_ids(better, requirements)
