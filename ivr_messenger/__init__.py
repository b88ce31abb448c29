"""Synthetic agents (IVR): the call-flow model, validator, step function, dry run and versions.

The pure core (docs/ivr.md). Storage and the REST API live in server/ (call_flows repository,
call_flow_routes); the executor over ARI, the designer and the monitor are not built yet.
"""

from ivr_messenger.expression_eval import evaluate
from ivr_messenger.expression_tree import Expression
from ivr_messenger.expressions import ExpressionError, parse
from ivr_messenger.flow import BUILTIN_VARIABLES, Flow, FlowShapeError, ShapeError, parse_flow
from ivr_messenger.session import (
    Action,
    CallState,
    Event,
    Outcome,
    Step,
    Visit,
)
from ivr_messenger.step import MAX_HOPS, new_call, step
from ivr_messenger.validate import CODES, FlowContext, Problem, validate
from ivr_messenger.versions import (
    FlowDiff,
    FlowVersion,
    PublishRefused,
    can_publish,
    diff,
    publish,
    rollback,
)
from ivr_messenger.walker import Script, Walk, walk

__all__ = [
    "BUILTIN_VARIABLES",
    "CODES",
    "MAX_HOPS",
    "Action",
    "CallState",
    "Event",
    "Expression",
    "ExpressionError",
    "Flow",
    "FlowContext",
    "FlowDiff",
    "FlowShapeError",
    "FlowVersion",
    "Outcome",
    "Problem",
    "PublishRefused",
    "Script",
    "ShapeError",
    "Step",
    "Visit",
    "Walk",
    "can_publish",
    "diff",
    "evaluate",
    "new_call",
    "parse",
    "parse_flow",
    "publish",
    "rollback",
    "step",
    "validate",
    "walk",
]
